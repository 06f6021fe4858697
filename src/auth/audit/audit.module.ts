import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';

import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';
import { AuditRecorder } from './audit-recorder.service.js';
import { AuditRetention } from './audit-retention.service.js';
import { AuditEvent, AuditEventSchema } from './schemas/audit-event.schema.js';
import { AuditSweep, AuditSweepSchema } from './schemas/audit-sweep.schema.js';

/** Makes the recorder injectable everywhere in the host (its own features record events too). */
@Module({})
class AuditRecorderModule {}

/** The audit trail: the recorder, its routes, reads and the retention sweep. */
@Module({})
export class AuditModule {
  /**
   * `options` is the module that provides AUTH_OPTIONS. The recorder is exported through a global
   * module, while AuditModule itself stays an ordinary one: Nest runs the shutdown hooks of global
   * modules last, in no set order among them, and the recorder's final write must run before the
   * (global) Mongoose connection closes.
   */
  static register(options: DynamicModule): DynamicModule {
    const audit: DynamicModule = {
      module: AuditModule,
      imports: [
        options,
        MongooseModule.forFeature([
          { name: AuditEvent.name, schema: AuditEventSchema },
          { name: AuditSweep.name, schema: AuditSweepSchema },
        ]),
      ],
      controllers: [AuditController],
      providers: [AuditRecorder, AuditService, AuditRetention],
      exports: [AuditRecorder],
    };
    return { module: AuditRecorderModule, global: true, imports: [audit], exports: [audit] };
  }
}
