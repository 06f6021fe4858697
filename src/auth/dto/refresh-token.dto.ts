import { IsString, Length } from 'class-validator';

export class RefreshTokenDto {
  /** The opaque refresh token from login or the previous refresh. */
  // A generous bound, so another credential sent here by mistake (an access token) gets a 401.
  @IsString()
  @Length(20, 4096)
  refreshToken!: string;
}
