import { createHash } from 'node:crypto';

import type { OutputInfo } from 'sharp';
import sharp from 'sharp';

/** Thumbnails fit inside this square (aspect ratio kept, never enlarged). */
export const COVER_MAX_SIDE = 150;

/**
 * Decompression-bomb guards, both read from the header before any pixel is decoded. Pixels: a
 * 5 MB PNG can claim 20000×20000 (1.2 GB of RGB once decoded); 16 MP is above any cover a 150×150
 * thumbnail is made from (4000×4000, a 16 MP phone photo). Bytes: the pixel count alone lets a
 * 16-bit RGBA image need 8 bytes a pixel, and an interlaced PNG cannot be streamed, so libvips
 * holds all of it; 64 MB still admits any 8-bit RGBA image within the pixel limit.
 */
export const MAX_INPUT_PIXELS = 16_000_000;
export const MAX_DECODED_BYTES = 64_000_000;

/** Bytes per sample of libvips' band formats (sharp's `metadata().depth`). */
const SAMPLE_BYTES: Record<string, number> = {
  uchar: 1,
  char: 1,
  ushort: 2,
  short: 2,
  uint: 4,
  int: 4,
  float: 4,
  complex: 8,
  double: 8,
  dpcomplex: 16,
};

const megabytes = (bytes: number): number => Math.ceil(bytes / 1_000_000);

/**
 * WebP rather than JPEG: it keeps the transparency of PNG, GIF and WebP covers (JPEG would have to
 * flatten them onto some background colour), it is smaller at the same quality (measured at
 * 150×100 from a 1200×800 photo-like image: 4.8 KB as WebP q80, 5.1 KB as mozjpeg q80, 5.3 KB as
 * libjpeg q80; 1.9 KB vs 2.6 KB for a smooth one), and every current browser displays it.
 */
export const COVER_CONTENT_TYPE = 'image/webp';

export type CoverSourceFormat = 'jpeg' | 'png' | 'webp' | 'gif';

export interface CoverThumbnail {
  data: Buffer;
  contentType: string;
  width: number;
  height: number;
  size: number;
  /** Hex SHA-256 of `data`. */
  sha256: string;
  sourceFormat: CoverSourceFormat;
}

/** The upload is not an acceptable image; the message is safe to show to the client. */
export class InvalidImageError extends Error {
  override readonly name = 'InvalidImageError';
}

const startsWith = (bytes: Buffer, signature: number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length &&
  signature.every((byte, index) => bytes[offset + index] === byte);

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

/**
 * The format from the file's magic bytes, never from its name or declared type. Checked before
 * sharp sees the bytes, so libvips never parses formats we do not accept (SVG, TIFF, HEIF...).
 */
export function sniffImageFormat(bytes: Buffer): CoverSourceFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  return undefined;
}

/**
 * Turns an uploaded image into the stored cover: checks the format by content, reads only the
 * header to refuse huge dimensions, then decodes (with sharp's own pixel limit as a second guard),
 * applies the EXIF orientation, shrinks to fit 150×150 and re-encodes as WebP. Metadata (EXIF, GPS,
 * ICC, XMP) is not copied: sharp strips it unless asked to keep it. Animated GIF/WebP keep their
 * first frame. Throws InvalidImageError for anything the client should fix.
 */
/**
 * libvips defaults to one worker thread per core for every image and a cache of recent
 * operations. Covers are small jobs run a few at a time (CoverLimitsService), so one thread each
 * keeps a cover from taking every core from bcrypt and the event loop, and the cache would only
 * hold decoded uploads that never come back. Process-wide; idempotent.
 */
export function configureSharpForCovers(): void {
  sharp.concurrency(1);
  sharp.cache(false);
}

export async function makeCoverThumbnail(input: Buffer): Promise<CoverThumbnail> {
  const sourceFormat = sniffImageFormat(input);
  if (!sourceFormat) {
    throw new InvalidImageError('cover_image must be a JPEG, PNG, WebP or GIF image');
  }

  let width: number;
  let height: number;
  let channels: number;
  let depth: string | undefined;
  try {
    // Header only: no pixel data is decoded here, so there is no need for the limit yet.
    ({ width, height, channels, depth } = await sharp(input, {
      limitInputPixels: false,
    }).metadata());
  } catch {
    throw new InvalidImageError('cover_image is not a readable image');
  }
  if (width * height > MAX_INPUT_PIXELS) {
    throw new InvalidImageError(
      `cover_image is ${width}×${height}; at most ${MAX_INPUT_PIXELS / 1_000_000} megapixels are accepted`,
    );
  }
  // An unknown band format counts as the widest, so it cannot slip past the budget.
  const decodedBytes = width * height * channels * (SAMPLE_BYTES[depth ?? ''] ?? 16);
  if (decodedBytes > MAX_DECODED_BYTES) {
    throw new InvalidImageError(
      `cover_image is ${width}×${height} with ${channels} ${depth ?? 'unknown'} channels and would need ` +
        `${megabytes(decodedBytes)} MB to decode; at most ${megabytes(MAX_DECODED_BYTES)} MB are accepted`,
    );
  }

  let output: { data: Buffer; info: OutputInfo };
  try {
    output = await sharp(input, {
      limitInputPixels: MAX_INPUT_PIXELS,
      failOn: 'warning',
      autoOrient: true,
      sequentialRead: true,
      pages: 1,
    })
      .timeout({ seconds: 10 })
      .resize(COVER_MAX_SIDE, COVER_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw new InvalidImageError('cover_image could not be decoded (damaged or truncated image)');
  }

  const { data, info } = output;
  return {
    data,
    contentType: COVER_CONTENT_TYPE,
    width: info.width,
    height: info.height,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    sourceFormat,
  };
}
