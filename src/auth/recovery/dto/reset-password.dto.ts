import { IsPassword } from '../../dto/password.validation.js';
import { TokenDto } from './token.dto.js';

export class ResetPasswordDto extends TokenDto {
  /** The new password; the documentation of the rules comes with `@IsPassword()`. */
  @IsPassword()
  newPassword!: string;
}
