import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { UsersService } from '../users/users.service.js';
import type { AuthModuleOptions } from './auth.options.js';
import { AUTH_OPTIONS } from './auth.options.js';
import type { AuthUser } from './auth-user.js';
import type { LoginDto } from './dto/login.dto.js';
import type { SignupDto } from './dto/signup.dto.js';
import type { TokenResponseDto } from './dto/token-response.dto.js';
import { PasswordService } from './password.service.js';

/** One body for every failed credential check, so responses do not reveal which part was wrong. */
export const INVALID_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  private readonly accessTtlSeconds: number;

  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly jwt: JwtService,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.accessTtlSeconds = options.jwt.accessTtlSeconds ?? 900;
  }

  async signup(dto: SignupDto): Promise<AuthUser> {
    const passwordHash = await this.passwords.hash(dto.password);
    const { passwordChangedAt: _ignored, ...user } = await this.users.create({
      email: dto.email,
      name: dto.name,
      passwordHash,
    });
    return user;
  }

  async login(dto: LoginDto): Promise<TokenResponseDto> {
    const found = await this.users.findByEmailWithHash(dto.email);
    const valid = await this.passwords.verify(dto.password, found?.passwordHash);
    if (!found || !valid) throw new UnauthorizedException(INVALID_CREDENTIALS);
    if (!found.user.active) throw new ForbiddenException('This account is disabled');
    return this.issueTokens(found.user.id);
  }

  private async issueTokens(userId: string): Promise<TokenResponseDto> {
    const accessToken = await this.jwt.signAsync({ sub: userId });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.accessTtlSeconds };
  }
}
