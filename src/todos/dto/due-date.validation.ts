import { isISO8601, ValidateBy } from 'class-validator';

/**
 * A calendar date (`2025-06-30`, midnight UTC) or a date-time with an explicit offset
 * (`2025-06-30T17:00:00Z`, `2025-06-30T19:00+02:00`). Without an offset a time would be read in the
 * server's time zone, so it is refused; so are the ISO 8601 forms JavaScript cannot parse (week and
 * ordinal dates) and impossible dates such as `2025-02-30`.
 */
const DUE_DATE_PATTERN =
  /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export function isDueDate(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    DUE_DATE_PATTERN.test(value) &&
    isISO8601(value, { strict: true, strictSeparator: true }) &&
    !Number.isNaN(Date.parse(value))
  );
}

export function IsDueDate(): PropertyDecorator {
  return ValidateBy({
    name: 'isDueDate',
    validator: {
      validate: (value: unknown) => isDueDate(value),
      defaultMessage: () =>
        '$property must be an ISO 8601 date (2025-06-30) or date-time with an offset (2025-06-30T17:00:00Z)',
    },
  });
}
