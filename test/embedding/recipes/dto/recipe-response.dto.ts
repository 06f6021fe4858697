import type { RecipeDocument } from '../schemas/recipe.schema.js';

export class RecipeResponseDto {
  id!: string;
  title!: string;
  isPublic!: boolean;
  owner!: string;
  createdAt!: string;
  updatedAt!: string;
}

export const toRecipeResponse = (doc: RecipeDocument): RecipeResponseDto => ({
  id: doc._id.toString(),
  title: doc.title,
  isPublic: doc.isPublic,
  owner: doc.owner.toString(),
  createdAt: doc.createdAt.toISOString(),
  updatedAt: doc.updatedAt.toISOString(),
});
