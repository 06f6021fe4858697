import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';

import type { AuthUser } from '../core/auth-user.js';
import { AllowUnverified } from '../core/decorators/allow-unverified.decorator.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { AccessTokenDto } from '../dto/token-response.dto.js';
import { PasswordCheck } from '../password-check.decorator.js';
import { ReauthenticateDto } from './dto/reauthenticate.dto.js';
import { RecentAuthService } from './recent-auth.service.js';

@ApiTags('auth')
@Controller('auth')
@AllowUnverified()
export class RecentAuthController {
  constructor(private readonly recentAuth: RecentAuthService) {}

  @Post('reauthenticate')
  @HttpCode(200)
  @PasswordCheck()
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prove it is you again, for sensitive actions (RFC 9470 step-up)',
    description:
      'With your password, a current code of your second factor, or a passkey assertion (options ' +
      'from `POST /api/auth/reauthenticate/options`). The session’s `auth_time` ' +
      'becomes now; the answer is a new access token for the same session (the refresh token ' +
      'stays). Sensitive routes answer 401 with `WWW-Authenticate: Bearer ' +
      'error="insufficient_user_authentication"` when the last authentication is older than ' +
      'REAUTH_MAX_AGE_SECONDS.',
  })
  @ApiOkResponse({ type: AccessTokenDto })
  @ApiBadRequestResponse({
    description:
      'Wrong password or code, a passkey not accepted, not exactly one proof sent, or no second ' +
      'factor for a code',
  })
  @ApiNotFoundResponse({
    description: 'A code (or passkey) was sent and the second factor (or passkeys) is switched off',
  })
  @ApiTooManyRequestsResponse({ description: 'Too many failed attempts (see Retry-After)' })
  reauthenticate(
    @CurrentUser() user: AuthUser,
    @Body() dto: ReauthenticateDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<AccessTokenDto> {
    return this.recentAuth.reauthenticate(user, dto, { ip, userAgent });
  }
}
