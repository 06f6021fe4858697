import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

import { Trim } from '../../shared/decorators/trim.decorator.js';

export class UpdateMeDto {
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}
