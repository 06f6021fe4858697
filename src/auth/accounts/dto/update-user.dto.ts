import { IsBoolean, IsEnum, IsOptional } from 'class-validator';

import { Role } from '../../core/roles.js';

/** What an admin may change on another account. */
export class UpdateUserDto {
  @IsOptional()
  @IsEnum(Role)
  role?: Role;

  @IsOptional()
  @IsBoolean()
  active?: boolean;
}
