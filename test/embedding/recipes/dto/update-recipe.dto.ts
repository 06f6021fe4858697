import { PartialType } from '@nestjs/swagger';

import { CreateRecipeDto } from './create-recipe.dto.js';

/** Body of `PATCH /recipes/:id`: any of the fields, each optional. */
export class UpdateRecipeDto extends PartialType(CreateRecipeDto) {}
