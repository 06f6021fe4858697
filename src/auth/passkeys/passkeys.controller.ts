import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
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
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';

import type { AuthUser } from '../core/auth-user.js';
import { AllowUnverified } from '../core/decorators/allow-unverified.decorator.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { Public } from '../core/decorators/public.decorator.js';
import { RecentAuth } from '../core/decorators/recent-auth.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { TokenResponseDto } from '../dto/token-response.dto.js';
import { AuthErrorHeadersInterceptor } from '../interceptors/auth-error-headers.interceptor.js';
import { ParseObjectIdPipe } from '../shared/pipes/parse-object-id.pipe.js';
import {
  PasskeyDto,
  PasskeyLoginDto,
  PasskeyMfaLoginDto,
  PasskeyMfaOptionsDto,
  RegisterPasskeyDto,
  RenamePasskeyDto,
} from './dto/passkey.dto.js';
import { CreationOptionsDto, RequestOptionsDto } from './dto/webauthn.dto.js';
import { PasskeysService } from './passkeys.service.js';

const SWITCHED_OFF = 'Passkeys are switched off on this server';
const NOT_ACCEPTED =
  'Passkey not accepted: unknown, used or expired challenge, unknown credential, wrong origin, ' +
  'RP ID or signature, a signature counter that went backwards, or no user verification';

/** Passkeys (WebAuthn): registration, the owner's list, and the ceremonies that log in with one. */
@ApiTags('auth')
@Controller('auth')
@ApiTooManyRequestsResponse({ description: 'Too many requests or failed logins (see Retry-After)' })
@ApiNotFoundResponse({ description: SWITCHED_OFF })
@UseInterceptors(AuthErrorHeadersInterceptor)
export class PasskeysController {
  constructor(private readonly passkeys: PasskeysService) {}

  @Post('passkeys/registration/options')
  @HttpCode(200)
  @RecentAuth()
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Start adding a passkey: creation options for startRegistration()',
    description:
      'A discoverable credential, user verification preferred, your passkeys excluded. The ' +
      'challenge is single use, lives 5 minutes and belongs to this session.',
  })
  @ApiOkResponse({ type: CreationOptionsDto })
  @ApiConflictResponse({ description: 'The account has the maximum number of passkeys' })
  registrationOptions(
    @CurrentUser() user: AuthUser,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.passkeys.registrationOptions(user);
  }

  @Post('passkeys/registration')
  @RecentAuth()
  @Auth()
  @ApiOperation({ summary: 'Finish adding a passkey: the attestation from startRegistration()' })
  @ApiCreatedResponse({ type: PasskeyDto })
  @ApiBadRequestResponse({
    description:
      'Malformed body; a challenge that is unknown, used, expired or another session’s; an ' +
      'attestation that does not verify (origin, RP ID, signature)',
  })
  @ApiConflictResponse({
    description: 'The credential is registered already, or the account has its maximum',
  })
  register(
    @CurrentUser() user: AuthUser,
    @Body() dto: RegisterPasskeyDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<PasskeyDto> {
    return this.passkeys.register(user, dto.response, dto.name, { ip, userAgent });
  }

  @Get('passkeys')
  @Auth()
  @ApiOperation({ summary: 'Your passkeys, oldest first' })
  @ApiOkResponse({ type: [PasskeyDto] })
  list(@CurrentUser() user: AuthUser): Promise<PasskeyDto[]> {
    return this.passkeys.list(user);
  }

  @Patch('passkeys/:id')
  @Auth()
  @ApiOperation({ summary: 'Rename one of your passkeys' })
  @ApiOkResponse({ type: PasskeyDto })
  @ApiBadRequestResponse({ description: 'Malformed id or name' })
  @ApiNotFoundResponse({ description: 'No such passkey of yours' })
  rename(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() dto: RenamePasskeyDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<PasskeyDto> {
    return this.passkeys.rename(user, id, dto.name, { ip, userAgent });
  }

  @Delete('passkeys/:id')
  @HttpCode(204)
  @RecentAuth()
  @Auth()
  @ApiOperation({ summary: 'Remove one of your passkeys' })
  @ApiNoContentResponse({ description: 'Removed; it no longer logs in' })
  @ApiBadRequestResponse({ description: 'Malformed id' })
  @ApiNotFoundResponse({ description: 'No such passkey of yours' })
  @ApiConflictResponse({
    description: 'Your last way to sign in (no password, no other passkey, no linked provider)',
  })
  remove(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseObjectIdPipe) id: string,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.passkeys.remove(user, id, { ip, userAgent });
  }

  @Post('passkeys/login/options')
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Start a login with a passkey alone (usernameless): options for startAuthentication()',
    description:
      'No allowCredentials: the authenticator offers the passkeys it holds for this site.',
  })
  @ApiOkResponse({ type: RequestOptionsDto })
  loginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.loginOptions();
  }

  @Post('passkeys/login')
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Log in with a passkey: the assertion from startAuthentication()',
    description:
      'With user verification the passkey counts as two factors (amr `hwk` or `swk`, and ' +
      '`mfa`): no TOTP step follows. Counts against the login throttles like a password.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed body' })
  @ApiUnauthorizedResponse({ description: NOT_ACCEPTED })
  @ApiForbiddenResponse({ description: 'The account is disabled' })
  login(
    @Body() dto: PasskeyLoginDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<TokenResponseDto> {
    return this.passkeys.login(dto.response, { ip, userAgent });
  }

  @Post('login/mfa/passkey/options')
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Second step of a password login by passkey: options for startAuthentication()',
    description: 'allowCredentials lists the account’s passkeys.',
  })
  @ApiOkResponse({ type: RequestOptionsDto })
  @ApiBadRequestResponse({ description: 'Malformed body' })
  @ApiUnauthorizedResponse({ description: 'Unknown, used or expired mfaToken' })
  @ApiNotFoundResponse({ description: `${SWITCHED_OFF}, or the account has no passkey` })
  secondFactorOptions(
    @Body() dto: PasskeyMfaOptionsDto,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.secondFactorOptions(dto.mfaToken);
  }

  @Post('login/mfa/passkey')
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Finish a password login with one of the account’s passkeys instead of a code',
    description: 'amr `pwd`, `hwk` or `swk`, `mfa`. The mfaToken is used up once it passes.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed body' })
  @ApiUnauthorizedResponse({ description: `Unknown, used or expired mfaToken; ${NOT_ACCEPTED}` })
  @ApiForbiddenResponse({ description: 'The account is disabled' })
  secondFactor(
    @Body() dto: PasskeyMfaLoginDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<TokenResponseDto> {
    return this.passkeys.secondFactor(dto.mfaToken, dto.response, { ip, userAgent });
  }

  @Post('reauthenticate/options')
  @HttpCode(200)
  @AllowUnverified()
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Re-authenticate with a passkey: options for startAuthentication()',
    description:
      'allowCredentials lists your passkeys; send the assertion to `POST /api/auth/reauthenticate` ' +
      'as `{ "passkey": … }`. The challenge belongs to this session.',
  })
  @ApiOkResponse({ type: RequestOptionsDto })
  @ApiNotFoundResponse({ description: `${SWITCHED_OFF}, or you have no passkey` })
  reauthenticationOptions(
    @CurrentUser() user: AuthUser,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.reauthenticationOptions(user);
  }
}
