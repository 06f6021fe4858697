import { crc32, deflateSync } from 'node:zlib';

import sharp from 'sharp';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};

/** A solid-colour image in the given format (PNG, WebP and GIF with transparency). */
export function solidImage(format: ImageFormat, width = 400, height = 300): Promise<Buffer> {
  const alpha = format !== 'jpeg';
  const image = sharp({
    create: {
      width,
      height,
      channels: alpha ? 4 : 3,
      background: alpha ? { r: 200, g: 40, b: 90, alpha: 0.5 } : { r: 200, g: 40, b: 90 },
    },
  });
  return image.toFormat(format).toBuffer();
}

/**
 * A photo-like JPEG: a gradient under a few hundred overlapping translucent shapes, with sensor-like
 * noise on top, so it has edges at every scale and compresses like a busy photo, not a flat colour.
 */
export async function photoLikeJpeg(width = 1200, height = 800): Promise<Buffer> {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const int = (max: number): number => Math.floor(random() * max);
  const shapes = Array.from(
    { length: 400 },
    () =>
      `<ellipse cx="${int(width)}" cy="${int(height)}" rx="${5 + int(120)}" ry="${5 + int(80)}" ` +
      `fill="rgb(${int(256)},${int(256)},${int(256)})" fill-opacity="${(0.3 + random() * 0.7).toFixed(2)}"/>`,
  ).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#204060"/>' +
    '<stop offset="1" stop-color="#e0b070"/></linearGradient></defs>' +
    `<rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  const noise = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 20 },
    },
  })
    .png()
    .toBuffer();
  return sharp(Buffer.from(svg))
    .composite([{ input: noise, blend: 'overlay' }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid, fully decodable 1-bit greyscale PNG of the given size, all black, built synchronously
 * with zlib. Small sizes make a quick cover; 20000×20000 is a decompression bomb (~200 KB on disk,
 * 400 megapixels, 1.2 GB as RGB once decoded) that sharp would need ~12 s to encode.
 */
export function blackPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  const pixels = deflateSync(Buffer.alloc(rowBytes * height), { level: 1 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', pixels),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
