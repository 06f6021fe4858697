import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { OutputInfo } from 'sharp';

/** Thumbnails fit inside this square (aspect ratio kept, never enlarged). */
export const COVER_MAX_SIDE = 150;

/**
 * Decompression-bomb guard: images above this many pixels are refused from their header, before
 * any pixel is decoded (a 5 MB PNG can claim 20000×20000 = 1.2 GB of RGB once decoded).
 * 40 MP is above any camera photo a cover is made from.
 */
export const MAX_INPUT_PIXELS = 40_000_000;

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
export async function makeCoverThumbnail(input: Buffer): Promise<CoverThumbnail> {
  const sourceFormat = sniffImageFormat(input);
  if (!sourceFormat) {
    throw new InvalidImageError('cover_image must be a JPEG, PNG, WebP or GIF image');
  }

  let width: number;
  let height: number;
  try {
    // Header only: no pixel data is decoded here, so there is no need for the limit yet.
    ({ width, height } = await sharp(input, { limitInputPixels: false }).metadata());
  } catch {
    throw new InvalidImageError('cover_image is not a readable image');
  }
  if (width * height > MAX_INPUT_PIXELS) {
    throw new InvalidImageError(
      `cover_image is ${width}×${height}; at most ${MAX_INPUT_PIXELS / 1_000_000} megapixels are accepted`,
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
