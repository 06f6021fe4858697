import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

/** The token from a mailed link (its `token` query parameter). */
export class TokenDto {
  @ApiProperty({ description: 'The `token` parameter of the link in the mail' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  token!: string;
}
