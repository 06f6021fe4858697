import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** One proof of the user's identity: the password, or a current code of their second factor. */
export class ReauthenticateDto {
  @ApiProperty({ required: false, example: 'Str0ng!pass', description: 'Your password' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password?: string;

  @ApiProperty({
    required: false,
    example: '123456',
    description: 'Or six digits from your authenticator app',
  })
  @IsOptional()
  @Matches(/^\d{6}$/, { message: 'code must be six digits' })
  code?: string;
}
