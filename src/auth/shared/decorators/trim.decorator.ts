import { Transform } from 'class-transformer';

/**
 * Trims a string field before it is validated, so that a blank value fails `@IsNotEmpty()` and
 * the stored text has no stray spaces. Non-strings pass through untouched for the type check.
 */
export const Trim = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
