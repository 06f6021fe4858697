import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Post,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { AuthService } from '../auth.service.js';
import type { AuthUser } from '../core/auth-user.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { Public } from '../core/decorators/public.decorator.js';
import { RecentAuth } from '../core/decorators/recent-auth.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { AuthErrorHeadersInterceptor } from '../interceptors/auth-error-headers.interceptor.js';
import { PasswordCheck } from '../password-check.decorator.js';
import {
  DisableTotpDto,
  MfaLoginDto,
  MfaStatusDto,
  MfaTokenResponseDto,
  RecoveryCodesDto,
  StartTotpDto,
  TotpCodeDto,
  TotpEnrolmentDto,
} from './dto/mfa.dto.js';
import { MfaService } from './mfa.service.js';

const SWITCHED_OFF = 'The second factor is switched off on this server';

/** TOTP second factor: enrolment, turning it off, and the second step of a login. */
@ApiTags('auth')
@Controller('auth')
@ApiTooManyRequestsResponse({ description: 'Too many failed logins or codes (see Retry-After)' })
@UseInterceptors(AuthErrorHeadersInterceptor)
export class MfaController {
  constructor(
    private readonly mfa: MfaService,
    private readonly auth: AuthService,
  ) {}

  @Post('login/mfa')
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Finish a login with a code from the app, or a recovery code',
    description:
      'The mfaToken is single-use and lives 5 minutes; a code is accepted once. Wrong codes ' +
      'count as failed logins, an mfaToken dies after 5 of them (from any clients), and past ' +
      'MFA_MAX_FAILURES_PER_DAY wrong codes on the account in 24 hours only a recovery code is ' +
      'checked (429 for an app code). With a recovery code the answer says how many remain.',
  })
  @ApiOkResponse({ type: MfaTokenResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed body, or both or neither of code/recoveryCode' })
  @ApiUnauthorizedResponse({
    description: 'Unknown, used, expired or spent (5 wrong codes) mfaToken; wrong or used code',
  })
  @ApiForbiddenResponse({ description: 'The account is disabled' })
  @ApiNotFoundResponse({ description: SWITCHED_OFF })
  finishLogin(
    @Body() dto: MfaLoginDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<MfaTokenResponseDto> {
    return this.auth.loginWithSecondFactor(dto, { ip, userAgent });
  }

  @Get('mfa')
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Whether your second factor is on, and recovery codes left' })
  @ApiOkResponse({ type: MfaStatusDto })
  @ApiNotFoundResponse({ description: SWITCHED_OFF })
  status(@CurrentUser() user: AuthUser): Promise<MfaStatusDto> {
    return this.mfa.status(user);
  }

  @Post('mfa/totp')
  @RecentAuth()
  @PasswordCheck()
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Start TOTP enrolment: a new secret, its otpauth:// URI and a QR code',
    description: 'Nothing changes at login until the secret is confirmed with a code.',
  })
  @ApiCreatedResponse({ type: TotpEnrolmentDto })
  @ApiBadRequestResponse({ description: 'Wrong password, or malformed body' })
  @ApiConflictResponse({ description: 'The second factor is already on' })
  @ApiNotFoundResponse({ description: SWITCHED_OFF })
  startTotp(
    @CurrentUser() user: AuthUser,
    @Body() dto: StartTotpDto,
    @ClientIp() ip: string,
  ): Promise<TotpEnrolmentDto> {
    return this.mfa.startTotp(user, dto.password, ip);
  }

  @Post('mfa/totp/confirm')
  @HttpCode(200)
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Turn the second factor on with a code; returns ten recovery codes, once',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiBadRequestResponse({ description: 'Wrong or used code, or malformed body' })
  @ApiConflictResponse({ description: 'No enrolment started, or the factor is already on' })
  @ApiNotFoundResponse({ description: SWITCHED_OFF })
  confirmTotp(
    @CurrentUser() user: AuthUser,
    @Body() dto: TotpCodeDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<RecoveryCodesDto> {
    return this.mfa.confirmTotp(user, dto.code, { ip, userAgent });
  }

  @Delete('mfa/totp')
  @RecentAuth()
  @PasswordCheck()
  @HttpCode(204)
  @Auth()
  @ApiOperation({ summary: 'Turn the second factor off (password and a current code)' })
  @ApiNoContentResponse({ description: 'Second factor off; recovery codes void' })
  @ApiBadRequestResponse({ description: 'Wrong password or code, or malformed body' })
  @ApiConflictResponse({ description: 'The second factor is not on' })
  @ApiNotFoundResponse({ description: SWITCHED_OFF })
  disableTotp(
    @CurrentUser() user: AuthUser,
    @Body() dto: DisableTotpDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.mfa.disableTotp(user, dto, { ip, userAgent });
  }
}
