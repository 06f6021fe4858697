import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';

import type { AuthUser, PageDto } from '../../../src/auth/index.js';
import { listVisible, paginate, saveOr409, saveUniqueOr409 } from '../../../src/auth/index.js';
import type { CreateRecipeDto } from './dto/create-recipe.dto.js';
import type { ListRecipesQueryDto } from './dto/list-recipes-query.dto.js';
import type { RecipeResponseDto } from './dto/recipe-response.dto.js';
import { toRecipeResponse } from './dto/recipe-response.dto.js';
import type { UpdateRecipeDto } from './dto/update-recipe.dto.js';
import type { RecipeDocument } from './schemas/recipe.schema.js';
import { Recipe, RECIPE_OWNERSHIP } from './schemas/recipe.schema.js';

const TITLE_TAKEN = 'You already have a recipe with this title';

@Injectable()
export class RecipesService {
  constructor(@InjectModel(Recipe.name) private readonly recipes: Model<Recipe>) {}

  /** What the caller may see, the same rule `@Owned(RECIPE_OWNERSHIP)` applies one by one. */
  list(query: ListRecipesQueryDto, user?: AuthUser): Promise<PageDto<RecipeResponseDto>> {
    const filter = listVisible<Recipe>(user, RECIPE_OWNERSHIP, query.owner);
    return paginate(this.recipes, filter, query, { createdAt: -1, _id: -1 }, toRecipeResponse);
  }

  async create(dto: CreateRecipeDto, ownerId: string): Promise<RecipeResponseDto> {
    const fields = { title: dto.title, isPublic: dto.isPublic ?? false, owner: ownerId };
    return toRecipeResponse(await saveOr409(() => this.recipes.create(fields), TITLE_TAKEN));
  }

  async update(doc: RecipeDocument, dto: UpdateRecipeDto): Promise<RecipeResponseDto> {
    if (dto.title !== undefined) doc.title = dto.title;
    if (dto.isPublic !== undefined) doc.isPublic = dto.isPublic;
    return toRecipeResponse(await saveUniqueOr409(doc, ['owner', 'title'], TITLE_TAKEN));
  }

  async remove(doc: RecipeDocument): Promise<void> {
    await doc.deleteOne();
  }
}
