import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser } from '../core/auth-user.js';
import { Auth } from '../core/decorators/auth.decorator.js';
import { ClientIp } from '../core/decorators/client-ip.decorator.js';
import { CurrentUser } from '../core/decorators/current-user.decorator.js';
import { RecentAuth } from '../core/decorators/recent-auth.decorator.js';
import { UserAgent } from '../core/decorators/user-agent.decorator.js';
import { ConfirmLinkDto, IdentityDto, LinkIdentityDto, LinkUrlDto } from './dto/oidc.dto.js';
import { OidcService } from './oidc.service.js';

@ApiTags('auth')
@Controller('auth/identities')
export class IdentitiesController {
  constructor(private readonly oidc: OidcService) {}

  @Get()
  @Auth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Your linked provider accounts' })
  @ApiOkResponse({ type: [IdentityDto] })
  list(@CurrentUser() user: AuthUser): Promise<IdentityDto[]> {
    return this.oidc.list(user);
  }

  @Post('confirm')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Auth()
  @ApiOperation({
    summary: "Finish a link: the `#link_code=` the browser came back with, by the link's user",
    description:
      'Links the provider account to yours when the code was issued for your link (the same ' +
      'signed-in user). A code from a link another account started is refused (403) and spent.',
  })
  @ApiOkResponse({ type: IdentityDto })
  @ApiBadRequestResponse({ description: 'Unknown, used or expired link code' })
  @ApiForbiddenResponse({
    description: 'The link was started by another account (or wrong verifier)',
  })
  @ApiConflictResponse({
    description: 'Linked to another account, or a second one of the provider',
  })
  confirm(
    @CurrentUser() user: AuthUser,
    @Body() dto: ConfirmLinkDto,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<IdentityDto> {
    return this.oidc.confirmLink(user, dto.code, dto.verifier, { ip, userAgent });
  }

  @Post(':provider')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @RecentAuth()
  @Auth()
  @ApiOperation({
    summary: 'Start linking a provider account to yours',
    description:
      'Answers the URL to open in the browser (valid 10 minutes, once; add `&challenge=` to bind ' +
      'it to your front end); it returns to `redirect` with `#link_code=<one-time code>` (finish ' +
      'with `POST /api/auth/identities/confirm`) or `#error=<reason>`.',
  })
  @ApiOkResponse({ type: LinkUrlDto })
  @ApiBadRequestResponse({ description: 'A redirect not on the allowlist' })
  @ApiNotFoundResponse({ description: 'Unknown provider' })
  async link(
    @CurrentUser() user: AuthUser,
    @Param('provider') provider: string,
    @Body() dto: LinkIdentityDto,
  ): Promise<LinkUrlDto> {
    return { url: await this.oidc.startLink(user, provider, dto.redirect) };
  }

  @Delete(':provider')
  @HttpCode(204)
  @RecentAuth()
  @Auth()
  @ApiOperation({ summary: 'Unlink a provider account from yours' })
  @ApiNoContentResponse({ description: 'Unlinked' })
  @ApiNotFoundResponse({ description: 'This provider is not linked to your account' })
  @ApiConflictResponse({
    description: 'Your last way to sign in (no password, no other provider)',
  })
  unlink(
    @CurrentUser() user: AuthUser,
    @Param('provider') provider: string,
    @ClientIp() ip: string,
    @UserAgent() userAgent?: string,
  ): Promise<void> {
    return this.oidc.unlink(user, provider, { ip, userAgent });
  }
}
