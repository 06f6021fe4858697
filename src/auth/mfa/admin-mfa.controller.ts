import { Controller, Delete, HttpCode, Ip, Param } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser } from '../core/auth-user.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { RecentAuth } from '../core/decorators/recent-auth.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { Role } from '../core/roles.js';
import { ParseObjectIdPipe } from '../shared/pipes/parse-object-id.pipe.js';
import { MfaService } from './mfa.service.js';

/** Account recovery by an admin: a user who lost both the app and the recovery codes. */
@ApiTags('users')
@Controller('users')
export class AdminMfaController {
  constructor(private readonly mfa: MfaService) {}

  @Delete(':id/mfa')
  @RecentAuth()
  @HttpCode(204)
  @Auth(Role.Admin)
  @ApiOperation({
    summary: "Turn a user's second factor off (admin); ends that user's sessions",
  })
  @ApiNoContentResponse({ description: 'Second factor off, sessions ended' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNotFoundResponse({ description: 'No such user, no second factor, or MFA switched off' })
  async disable(
    @Param('id', ParseObjectIdPipe) id: string,
    @CurrentUser() admin: AuthUser,
    @Ip() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    await this.mfa.adminDisable(id, admin, { ip, userAgent });
  }
}
