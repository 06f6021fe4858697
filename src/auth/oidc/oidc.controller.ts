import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Redirect,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';

import { AllowUnverified } from '../core/decorators/allow-unverified.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { Public } from '../core/decorators/public.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { TokenResponseDto } from '../dto/token-response.dto.js';
import { AuthErrorHeadersInterceptor } from '../interceptors/auth-error-headers.interceptor.js';
import { MfaChallengeDto } from '../mfa/dto/mfa.dto.js';
import { OidcExchangeDto, OidcStartQueryDto, ProviderDto } from './dto/oidc.dto.js';
import { OidcService } from './oidc.service.js';

/** Express's and Fastify's response objects both have it. */
interface HeaderSettable {
  header(name: string, value: string): unknown;
}

/** What `@Redirect()` sends the browser to. */
interface RedirectTo {
  url: string;
  statusCode: number;
}

const CALLBACK_ERRORS =
  '`invalid_state`, `expired`, `access_denied`, `provider_error`, `provider_unreachable`, ' +
  '`token_exchange_failed`, `invalid_id_token`, `email_not_verified`, ' +
  '`local_account_unverified`, `signup_disabled`, `account_disabled`, `identity_in_use`, ' +
  '`already_linked`, `throttled`, `server_error`';

@ApiTags('auth')
@Controller('auth')
@UseInterceptors(AuthErrorHeadersInterceptor)
@AllowUnverified()
export class OidcController {
  constructor(private readonly oidc: OidcService) {}

  @Get('providers')
  @Public()
  @ApiOperation({ summary: 'The OpenID Connect providers to sign in with (buttons)' })
  @ApiOkResponse({ type: [ProviderDto] })
  providers(): ProviderDto[] {
    return this.oidc.providers();
  }

  @Get('oidc/:provider/start')
  @Public()
  @Redirect()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Start a sign-in (or a link) with a provider: open it in the browser',
    description:
      "Stores the flow (state, nonce, PKCE verifier, return URL, the front end's `challenge`) " +
      'for 10 minutes, sets a cookie that binds it to this browser and redirects to the ' +
      'provider. A sign-in needs `challenge` = base64url(SHA-256(verifier)); the exchange then ' +
      'needs the verifier.',
  })
  @ApiFoundResponse({ description: "Redirect to the provider's authorization endpoint" })
  @ApiBadRequestResponse({
    description:
      'A redirect not on the allowlist; no or a malformed challenge; a used link request',
  })
  @ApiNotFoundResponse({ description: 'Unknown provider' })
  @ApiServiceUnavailableResponse({ description: 'The provider cannot be reached (discovery)' })
  async start(
    @Param('provider') provider: string,
    @Query() query: OidcStartQueryDto,
    @Res({ passthrough: true }) response: HeaderSettable,
  ): Promise<RedirectTo> {
    const { location, cookie } = await this.oidc.start(provider, query);
    response.header('Set-Cookie', cookie);
    return { url: location, statusCode: 302 };
  }

  @Get('oidc/:provider/callback')
  @Public()
  @Redirect()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "The provider's redirect back (register `<base>/<provider>/callback` there)",
    description:
      'Redirects to the return URL with `#code=<one-time code>` for `POST ' +
      '/api/auth/oidc/exchange`, `#link_code=<one-time code>` after a link (for `POST ' +
      '/api/auth/identities/confirm`), or `#error=<reason>`: ' +
      `${CALLBACK_ERRORS}.`,
  })
  @ApiQuery({ name: 'code', required: false, type: String })
  @ApiQuery({ name: 'state', required: false, type: String })
  @ApiQuery({ name: 'error', required: false, type: String })
  @ApiFoundResponse({ description: 'Redirect to the front end (result in the fragment)' })
  @ApiNotFoundResponse({ description: 'Unknown provider' })
  async callback(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Headers('cookie') cookie: string | undefined,
    @Res({ passthrough: true }) response: HeaderSettable,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<RedirectTo> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (typeof one === 'string') params.append(key, one);
      }
    }
    const answer = await this.oidc.callback(provider, params, cookie, { ip, userAgent });
    response.header('Set-Cookie', answer.cookie);
    return { url: answer.location, statusCode: 302 };
  }

  @Post('oidc/exchange')
  @HttpCode(200)
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Exchange a sign-in's one-time code for an access and a refresh token",
    description:
      'With a second factor on, the answer is `{ mfaRequired: true, mfaToken }` and no session: ' +
      'finish with `POST /api/auth/login/mfa`, as after a password.',
  })
  @ApiExtraModels(TokenResponseDto, MfaChallengeDto)
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(MfaChallengeDto) }],
    },
  })
  @ApiUnauthorizedResponse({
    description: 'Unknown, used or expired code, or not the verifier of its challenge (spent)',
  })
  @ApiForbiddenResponse({ description: 'The account is disabled' })
  exchange(
    @Body() dto: OidcExchangeDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    return this.oidc.exchange(dto.code, dto.verifier, { ip, userAgent });
  }
}
