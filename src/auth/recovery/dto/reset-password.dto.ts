import { ApiProperty } from '@nestjs/swagger';

import { IsPassword, PASSWORD_RULES } from '../../dto/password.validation.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../password-policy.js';
import { TokenDto } from './token.dto.js';

export class ResetPasswordDto extends TokenDto {
  @ApiProperty({
    example: 'correct horse battery staple',
    description: PASSWORD_RULES,
    minLength: MIN_PASSWORD_LENGTH,
    maxLength: MAX_PASSWORD_LENGTH,
  })
  @IsPassword()
  newPassword!: string;
}
