import { Body, Controller, Delete, HttpCode, Param, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';

import type { AuthUser } from '../core/auth-user.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { RecentAuth } from '../core/decorators/recent-auth.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { Role } from '../core/roles.js';
import { AuthErrorHeadersInterceptor } from '../interceptors/auth-error-headers.interceptor.js';
import { PasswordCheck } from '../password-check.decorator.js';
import { ParseObjectIdPipe } from '../shared/pipes/parse-object-id.pipe.js';
import { AdminDisableMfaDto } from './dto/mfa.dto.js';
import { MfaService } from './mfa.service.js';

/** Account recovery by an admin: a user who lost both the app and the recovery codes. */
@ApiTags('users')
@Controller('users')
@UseInterceptors(AuthErrorHeadersInterceptor)
export class AdminMfaController {
  constructor(private readonly mfa: MfaService) {}

  @Delete(':id/mfa')
  @RecentAuth()
  @PasswordCheck()
  @HttpCode(204)
  @Auth(Role.Admin)
  @ApiOperation({
    summary: "Turn a user's second factor off (admin); ends that user's sessions",
    description:
      "Needs the acting admin's password, and their own current code when their second factor " +
      'is on: an access token alone resets nobody. Not for your own factor (403): turn it off ' +
      'with `DELETE /api/auth/mfa/totp`. The password check counts like a login.',
  })
  @ApiNoContentResponse({ description: 'Second factor off, sessions ended' })
  @ApiBadRequestResponse({
    description: 'Invalid id or body; your password or code is wrong, or your code is missing',
  })
  @ApiForbiddenResponse({
    description: 'Not an admin, account disabled, or your own id (use DELETE /api/auth/mfa/totp)',
  })
  @ApiNotFoundResponse({ description: 'No such user, no second factor, or MFA switched off' })
  @ApiTooManyRequestsResponse({
    description: 'Too many failed password or code checks of yours (see Retry-After)',
  })
  async disable(
    @Param('id', ParseObjectIdPipe) id: string,
    @CurrentUser() admin: AuthUser,
    @Body() dto: AdminDisableMfaDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    await this.mfa.adminDisable(admin, id, dto, { ip, userAgent });
  }
}
