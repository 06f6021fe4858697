import { Transform } from 'class-transformer';

/** Emails are compared trimmed and lower-cased. */
export const NormalizeEmail = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase() : value,
  );
