import { Controller, Get } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { HealthCheckResult } from '@nestjs/terminus';
import { HealthCheck, HealthCheckService, MongooseHealthIndicator } from '@nestjs/terminus';

import { Public } from '../auth/index.js';

const indicators: SchemaObject = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
};

/** Terminus's answer. Declared here: @HealthCheck() documents it only when it can `require` Swagger. */
function healthSchema(statuses: string[]): SchemaObject {
  return {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: statuses },
      info: { ...indicators, nullable: true },
      error: { ...indicators, nullable: true },
      details: indicators,
    },
  };
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mongoose: MongooseHealthIndicator,
  ) {}

  /** Liveness and readiness: 200 while MongoDB answers a ping, 503 when it does not. */
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
    return this.health.check([() => this.mongoose.pingCheck('mongodb', { timeout: 1500 })]);
  }
}
