import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, MongooseHealthIndicator } from '@nestjs/terminus';
import type { HealthCheckResult } from '@nestjs/terminus';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mongoose: MongooseHealthIndicator,
  ) {}

  /** Liveness and readiness: 200 while MongoDB answers a ping, 503 when it does not. */
  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Health of the API and its database', security: [] })
  @ApiServiceUnavailableResponse({ description: 'MongoDB did not answer a ping' })
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.mongoose.pingCheck('mongodb', { timeout: 1500 })]);
  }
}
