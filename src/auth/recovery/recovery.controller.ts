import { Body, Controller, Header, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';

import type { AuthUser } from '../core/auth-user.js';
import { AllowUnverified } from '../core/decorators/allow-unverified.decorator.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { Public } from '../core/decorators/public.decorator.js';
import { RecentAuth } from '../core/decorators/recent-auth.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { AuthErrorHeadersInterceptor } from '../interceptors/auth-error-headers.interceptor.js';
import { PasswordCheck } from '../password-check.decorator.js';
import { AcceptedDto } from './dto/accepted.dto.js';
import { ChangeEmailDto } from './dto/change-email.dto.js';
import { ForgotPasswordDto } from './dto/forgot-password.dto.js';
import { ResetPasswordDto } from './dto/reset-password.dto.js';
import { TokenDto } from './dto/token.dto.js';
import { INVALID_LINK, RecoveryService } from './recovery.service.js';

const THROTTLED = 'Too many requests for this address or from this client (see Retry-After)';
const MAIL_OFF = 'Account mail is not enabled on this server';

/** Password reset, email verification and email change: the flows that go through a mailbox. */
@Controller()
@AllowUnverified()
@ApiTooManyRequestsResponse({ description: THROTTLED })
@ApiNotFoundResponse({ description: MAIL_OFF })
@UseInterceptors(AuthErrorHeadersInterceptor)
export class RecoveryController {
  constructor(private readonly recovery: RecoveryService) {}

  @Post('auth/password/forgot')
  @HttpCode(202)
  @Public()
  @ApiTags('auth')
  @ApiOperation({
    summary: 'Mail a password-reset link',
    description:
      'The same 202 whether or not an account uses the address (a disabled account gets no ' +
      'mail). The link carries a single-use token valid for 30 minutes; a newer request ' +
      'supersedes it.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiBadRequestResponse({ description: 'Not an email address, or unknown fields' })
  forgot(
    @Body() dto: ForgotPasswordDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<AcceptedDto> {
    return this.recovery.forgotPassword(dto.email, { ip, userAgent });
  }

  @Post('auth/password/reset')
  @PasswordCheck()
  @HttpCode(204)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiTags('auth')
  @ApiOperation({
    summary: 'Set a new password with the token from a reset link',
    description: 'Uses the token up and ends every session of the account.',
  })
  @ApiNoContentResponse({ description: 'Password set; log in with it' })
  @ApiBadRequestResponse({
    description: `${INVALID_LINK} (unknown, expired, used or superseded), or a password that breaks the rules`,
  })
  reset(
    @Body() dto: ResetPasswordDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.recovery.resetPassword(dto.token, dto.newPassword, { ip, userAgent });
  }

  @Post('auth/email/verify')
  @HttpCode(204)
  @Public()
  @ApiTags('auth')
  @ApiOperation({ summary: 'Verify your address with the token from a verification link' })
  @ApiNoContentResponse({ description: 'Address verified' })
  @ApiBadRequestResponse({ description: INVALID_LINK })
  verify(
    @Body() dto: TokenDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.recovery.verifyEmail(dto.token, { ip, userAgent });
  }

  @Post('auth/email/resend')
  @HttpCode(202)
  @Auth()
  @ApiTags('auth')
  @ApiOperation({ summary: 'Mail a new verification link (none when already verified)' })
  @ApiAcceptedResponse({ type: AcceptedDto })
  resend(
    @CurrentUser() user: AuthUser,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<AcceptedDto> {
    return this.recovery.resendVerification(user, { ip, userAgent });
  }

  @Post('users/me/email')
  @RecentAuth()
  @PasswordCheck()
  @HttpCode(202)
  @Auth()
  @ApiTags('users')
  @ApiOperation({
    summary: 'Change your email address',
    description:
      'Mails a confirmation link to the new address and a notice to the current one; the ' +
      'address changes only when the link is used. The password check counts like a login.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiBadRequestResponse({
    description: 'Wrong current password, the same address, or an invalid body',
  })
  @ApiConflictResponse({ description: 'Email is already registered' })
  changeEmail(
    @CurrentUser() user: AuthUser,
    @Body() dto: ChangeEmailDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<AcceptedDto> {
    return this.recovery.requestEmailChange(user, dto, { ip, userAgent });
  }

  @Post('auth/email/change/confirm')
  @HttpCode(204)
  @Public()
  @ApiTags('auth')
  @ApiOperation({ summary: 'Confirm an email change with the token from the confirmation link' })
  @ApiNoContentResponse({ description: 'Address changed' })
  @ApiBadRequestResponse({ description: INVALID_LINK })
  @ApiConflictResponse({ description: 'The new address has been registered meanwhile' })
  confirmEmailChange(
    @Body() dto: TokenDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.recovery.confirmEmailChange(dto.token, { ip, userAgent });
  }
}
