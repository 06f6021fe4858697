import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Patch,
  Post,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';

import { toUserResponse, UserResponseDto } from './accounts/dto/user-response.dto.js';
import { AuthService } from './auth.service.js';
import type { AuthUser } from './core/auth-user.js';
import { AllowUnverified } from './core/decorators/allow-unverified.decorator.js';
import { Auth } from './core/decorators/auth.decorator.js';
import { ClientIp } from './core/decorators/client-ip.decorator.js';
import { CurrentUser } from './core/decorators/current-user.decorator.js';
import { Public } from './core/decorators/public.decorator.js';
import { RecentAuth } from './core/decorators/recent-auth.decorator.js';
import { UserAgent } from './core/decorators/user-agent.decorator.js';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { JwksDto } from './dto/jwks.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RefreshTokenDto } from './dto/refresh-token.dto.js';
import { SignupDto } from './dto/signup.dto.js';
import { TokenResponseDto } from './dto/token-response.dto.js';
import { AuthErrorHeadersInterceptor } from './interceptors/auth-error-headers.interceptor.js';
import { MfaChallengeDto } from './mfa/dto/mfa.dto.js';
import type { ReservedPasswordCheck } from './password.service.js';
import { AdmittedPasswordCheck, PasswordCheck } from './password-check.decorator.js';
import { AcceptedDto } from './recovery/dto/accepted.dto.js';
import { RecoveryService } from './recovery/recovery.service.js';

/** Express's and Fastify's response objects both have it. */
interface StatusSettable {
  status(code: number): unknown;
}

const RATE_LIMITED = 'Too many requests or failed logins (see Retry-After)';

@ApiTags('auth')
@Controller('auth')
@ApiTooManyRequestsResponse({ description: RATE_LIMITED })
@UseInterceptors(AuthErrorHeadersInterceptor)
@AllowUnverified()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly recovery: RecoveryService,
  ) {}

  @Post('signup')
  @PasswordCheck({ admit: true })
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Create an account (role user)' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid email, weak or over-long password, unknown fields',
  })
  @ApiConflictResponse({ description: 'Email is already registered' })
  @ApiAcceptedResponse({
    type: AcceptedDto,
    description:
      'With verified email required: the same answer for a new and a taken address; the link ' +
      '(or, for a taken address, a notice to its owner) is in the mail',
  })
  async signup(
    @Body() dto: SignupDto,
    @Res({ passthrough: true }) response: StatusSettable,
    @ClientIp() ip: string,
    @AdmittedPasswordCheck() admitted: ReservedPasswordCheck | undefined,
    @UserAgent() userAgent?: string,
  ): Promise<UserResponseDto | AcceptedDto> {
    const client = { ip, userAgent };
    if (this.recovery.verificationRequired) {
      response.status(202);
      return this.recovery.signupQuietly(dto.email, () => this.auth.signup(dto, client, admitted));
    }
    const user = await this.auth.signup(dto, client, admitted);
    this.recovery.afterSignup(user);
    return toUserResponse(user);
  }

  @Post('login')
  @PasswordCheck({ admit: true })
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Exchange email and password for an access and a refresh token',
    description:
      'With a second factor on, the answer is `{ mfaRequired: true, mfaToken }` and no session: ' +
      'finish with `POST /api/auth/login/mfa`.',
  })
  @ApiExtraModels(TokenResponseDto, MfaChallengeDto)
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(MfaChallengeDto) }],
    },
  })
  @ApiUnauthorizedResponse({ description: 'Invalid email or password (same answer for both)' })
  @ApiForbiddenResponse({ description: 'Correct password, but the account is disabled' })
  login(
    @Body() dto: LoginDto,
    @ClientIp() ip: string,
    @AdmittedPasswordCheck() admitted: ReservedPasswordCheck | undefined,
    @UserAgent() userAgent?: string,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    return this.auth.login(dto, { ip, userAgent }, admitted);
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Rotate a refresh token',
    description:
      'Returns new tokens; the presented refresh token stops working. Presenting a token that ' +
      'was already rotated ends the whole session (reuse detection).',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiUnauthorizedResponse({ description: 'Unknown, expired, reused or revoked refresh token' })
  refresh(
    @Body() dto: RefreshTokenDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<TokenResponseDto> {
    return this.auth.refresh(dto.refreshToken, { ip, userAgent });
  }

  @Post('logout')
  @HttpCode(204)
  @Public()
  @ApiOperation({ summary: 'End the session a refresh token belongs to' })
  @ApiNoContentResponse({ description: 'Session ended' })
  @ApiUnauthorizedResponse({ description: 'Unknown, expired or revoked refresh token' })
  logout(
    @Body() dto: RefreshTokenDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.auth.logout(dto.refreshToken, { ip, userAgent });
  }

  @Post('logout-all')
  @HttpCode(204)
  @Auth()
  @ApiOperation({ summary: 'End every session of the signed-in user' })
  @ApiNoContentResponse({ description: 'All sessions ended' })
  logoutAll(
    @CurrentUser() user: AuthUser,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.auth.logoutAll(user, { ip, userAgent });
  }

  @Patch('password')
  @RecentAuth()
  @PasswordCheck()
  @HttpCode(204)
  @Auth()
  @ApiOperation({ summary: 'Change your password (ends every session)' })
  @ApiNoContentResponse({ description: 'Password changed; log in again' })
  @ApiBadRequestResponse({
    description: 'Wrong current password, or a new password that breaks the rules',
  })
  async changePassword(
    @CurrentUser() user: AuthUser,
    @Body() dto: ChangePasswordDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    await this.auth.changePassword(user, dto, { ip, userAgent });
    await this.recovery.passwordChanged(user);
  }

  @Get('jwks.json')
  @Public()
  @ApiOperation({ summary: 'Public keys that verify access tokens (JWKS)' })
  @ApiOkResponse({ type: JwksDto })
  jwks(): JwksDto {
    return this.auth.jwks();
  }
}
