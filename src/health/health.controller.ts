import { Controller, Get } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';
import { HealthCheck, HealthCheckService, MongooseHealthIndicator } from '@nestjs/terminus';

import { AuditRecorder, Public } from '../auth/index.js';

const indicators: SchemaObject = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
};

/** The audit recorder's counters: always `up` (a full buffer never takes the instance out). */
const auditIndicator: SchemaObject = {
  type: 'object',
  required: ['status', 'buffered', 'dropped'],
  properties: {
    status: { type: 'string', enum: ['up'] },
    buffered: {
      type: 'integer',
      minimum: 0,
      description: 'Audit events waiting to be written',
    },
    dropped: {
      type: 'integer',
      minimum: 0,
      description: 'Audit events lost since start (buffer full, refused, or unwritten at shutdown)',
    },
  },
};

const withAudit = (schema: SchemaObject): SchemaObject => ({
  ...schema,
  properties: { audit: auditIndicator },
});

/** Terminus's answer. Declared here: @HealthCheck() documents it only when it can `require` Swagger. */
function healthSchema(statuses: string[]): SchemaObject {
  return {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: statuses },
      info: { ...withAudit(indicators), nullable: true },
      error: { ...indicators, nullable: true },
      details: withAudit(indicators),
    },
  };
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mongoose: MongooseHealthIndicator,
    private readonly audit: AuditRecorder,
  ) {}

  /**
   * Liveness and readiness: 200 while MongoDB answers a ping, 503 when it does not. The detail
   * also carries the audit recorder's counters (events waiting, events dropped).
   */
  @Get()
  @Public()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Health of the API and its database' })
  @ApiOkResponse({ description: 'MongoDB answered a ping', schema: healthSchema(['ok']) })
  @ApiServiceUnavailableResponse({
    description: 'MongoDB did not answer a ping, or the API is shutting down',
    schema: healthSchema(['error', 'shutting_down']),
  })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.mongoose.pingCheck('mongodb', { timeout: 1500 }),
      (): HealthIndicatorResult => ({ audit: { status: 'up', ...this.audit.stats() } }),
    ]);
  }
}
