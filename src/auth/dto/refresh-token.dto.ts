import { IsString, Length } from 'class-validator';

export class RefreshTokenDto {
  /** The opaque refresh token from login or the previous refresh. */
  @IsString()
  @Length(20, 200)
  refreshToken!: string;
}
