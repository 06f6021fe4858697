import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

import { Trim } from '../../../../src/auth/index.js';

/** Body of `POST /recipes`. An owner field is refused (400). */
export class CreateRecipeDto {
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  title!: string;

  /** Default false: a new recipe is private. */
  @IsOptional()
  @IsBoolean()
  isPublic?: boolean;
}
