import sharp from 'sharp';

import {
  COVER_CONTENT_TYPE,
  InvalidImageError,
  makeCoverThumbnail,
  MAX_INPUT_PIXELS,
  sniffImageFormat,
} from './cover-thumbnail.js';

const image = (format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff', width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .toFormat(format)
    .toBuffer();

describe('sniffImageFormat', () => {
  it.each(['jpeg', 'png', 'webp', 'gif'] as const)(
    'recognizes %s by its magic bytes',
    async (format) => {
      expect(sniffImageFormat(await image(format))).toBe(format);
    },
  );

  it.each([
    ['text', Buffer.from('hello, I am a PNG')],
    ['empty', Buffer.alloc(0)],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['RIFF that is not WebP', Buffer.from('RIFF\u0000\u0000\u0000\u0000WAVEfmt ')],
    ['a PNG signature cut short', Buffer.from([0x89, 0x50, 0x4e, 0x47])],
  ])('refuses %s', (_name, bytes) => {
    expect(sniffImageFormat(bytes)).toBeUndefined();
  });

  it('refuses TIFF, which sharp could decode', async () => {
    expect(sniffImageFormat(await image('tiff'))).toBeUndefined();
  });
});

describe('makeCoverThumbnail', () => {
  it('re-encodes as WebP within 150×150 with a SHA-256 of the output', async () => {
    const thumb = await makeCoverThumbnail(await image('png', 600, 200));
    expect(thumb).toMatchObject({
      contentType: COVER_CONTENT_TYPE,
      width: 150,
      height: 50,
      sourceFormat: 'png',
      size: thumb.data.length,
    });
    expect(thumb.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await sharp(thumb.data).metadata()).format).toBe('webp');
  });

  it('refuses a non-image with InvalidImageError', async () => {
    await expect(makeCoverThumbnail(Buffer.from('plain text'))).rejects.toBeInstanceOf(
      InvalidImageError,
    );
  });

  it('refuses dimensions over the pixel limit before decoding', async () => {
    // The limit plus one row of 10000 pixels: just over it.
    const width = 10000;
    const height = MAX_INPUT_PIXELS / width + 1;
    const big = await sharp({
      create: { width, height, channels: 3, background: '#000' },
      limitInputPixels: false,
    })
      .png({ compressionLevel: 1 })
      .toBuffer();
    await expect(makeCoverThumbnail(big)).rejects.toThrow(/megapixels/);
  });
});
