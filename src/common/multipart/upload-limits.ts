/** Largest accepted upload (one file per request), in bytes: 413 beyond. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/**
 * Hard limits for every multipart request, applied where `@fastify/multipart` is registered
 * (createApp) and again by each upload interceptor. Without them the plugin would cap a file at
 * the JSON body limit and accept up to 1000 parts. Forms here have one file and a few short text
 * fields, so anything beyond is refused: 413 for a file over the limit, 400 for the rest.
 */
export const UPLOAD_LIMITS = {
  files: 1,
  fileSize: MAX_UPLOAD_BYTES,
  fields: 10,
  parts: 11,
  fieldSize: 32 * 1024,
  fieldNameSize: 100,
  headerPairs: 100,
} as const;
