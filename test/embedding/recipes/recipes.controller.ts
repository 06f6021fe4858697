import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';

import type { AuthUser, PageDto } from '../../../src/auth/index.js';
import { Auth, CurrentUser, OptionalAuth, Owned, OwnedResource } from '../../../src/auth/index.js';
import { CreateRecipeDto } from './dto/create-recipe.dto.js';
import { ListRecipesQueryDto } from './dto/list-recipes-query.dto.js';
import type { RecipeResponseDto } from './dto/recipe-response.dto.js';
import { toRecipeResponse } from './dto/recipe-response.dto.js';
import { UpdateRecipeDto } from './dto/update-recipe.dto.js';
import { RecipesService } from './recipes.service.js';
import type { RecipeDocument } from './schemas/recipe.schema.js';
import { RECIPE_OWNERSHIP } from './schemas/recipe.schema.js';

/**
 * Recipes are public or private one by one: anyone reads and lists the public ones (no token
 * needed), their owner and admins everything; only the owner or an admin changes or deletes one.
 */
@Controller('recipes')
export class RecipesController {
  constructor(private readonly recipes: RecipesService) {}

  @Get()
  @OptionalAuth()
  list(
    @Query() query: ListRecipesQueryDto,
    @CurrentUser() user?: AuthUser,
  ): Promise<PageDto<RecipeResponseDto>> {
    return this.recipes.list(query, user);
  }

  @Post()
  @Auth()
  create(@Body() dto: CreateRecipeDto, @CurrentUser() user: AuthUser): Promise<RecipeResponseDto> {
    return this.recipes.create(dto, user.id);
  }

  @Get(':id')
  @OptionalAuth()
  @Owned(RECIPE_OWNERSHIP)
  get(@OwnedResource() recipe: RecipeDocument): RecipeResponseDto {
    return toRecipeResponse(recipe);
  }

  @Patch(':id')
  @Auth()
  @Owned(RECIPE_OWNERSHIP)
  update(
    @OwnedResource() recipe: RecipeDocument,
    @Body() dto: UpdateRecipeDto,
  ): Promise<RecipeResponseDto> {
    return this.recipes.update(recipe, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @Owned(RECIPE_OWNERSHIP)
  remove(@OwnedResource() recipe: RecipeDocument): Promise<void> {
    return this.recipes.remove(recipe);
  }
}
