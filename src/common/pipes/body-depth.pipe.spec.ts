import { BadRequestException } from '@nestjs/common';

import { BodyDepthPipe, exceedsDepth, MAX_BODY_DEPTH } from './body-depth.pipe.js';

const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];
  return value;
};

describe('exceedsDepth', () => {
  it('counts nested objects and arrays, not scalars', () => {
    expect(exceedsDepth(nested(3), 3)).toBe(false);
    expect(exceedsDepth(nested(4), 3)).toBe(true);
    expect(exceedsDepth('text', 0)).toBe(false);
  });

  it('walks 100k levels without recursion', () => {
    expect(exceedsDepth(nested(100_000), MAX_BODY_DEPTH)).toBe(true);
  });

  it('visits a shared or cyclic object once (multipart fields point back at the body)', () => {
    const body: Record<string, unknown> = { title: { value: 'x' } };
    (body.title as Record<string, unknown>).fields = body;
    expect(exceedsDepth(body, 3)).toBe(false);
  });

  it('does not descend into class instances (streams, buffers, dates)', () => {
    expect(exceedsDepth({ file: Buffer.alloc(10), at: new Date() }, 1)).toBe(false);
  });
});

describe('BodyDepthPipe', () => {
  const pipe = new BodyDepthPipe();

  it('refuses a body deeper than the limit with 400', () => {
    expect(() => pipe.transform(nested(MAX_BODY_DEPTH + 1), { type: 'body' })).toThrow(
      BadRequestException,
    );
  });

  it('passes a body within the limit, and other arguments, unchanged', () => {
    const body = nested(MAX_BODY_DEPTH);
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    const query = nested(MAX_BODY_DEPTH + 5);
    expect(pipe.transform(query, { type: 'query' })).toBe(query);
  });
});
