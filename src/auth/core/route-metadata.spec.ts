import { jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { handlerMetadata, routeMetadata } from './route-metadata.js';

const KEY = 'route-metadata-spec';

@SetMetadata(KEY, 'base')
class BaseController {
  inherited(): void {}
  @SetMetadata(KEY, 'handler')
  own(): void {}
}

@SetMetadata(KEY, 'derived')
class DerivedController extends BaseController {}

class PlainController {
  plain(): void {}
}

function context(type: object, handler: object): ExecutionContext {
  return { getClass: () => type, getHandler: () => handler } as unknown as ExecutionContext;
}

describe('routeMetadata', () => {
  it("reads the handler's value first, else its class's", () => {
    const reflector = new Reflector();
    const { inherited, own } = BaseController.prototype;
    expect(routeMetadata(reflector, KEY, context(BaseController, own))).toBe('handler');
    expect(routeMetadata(reflector, KEY, context(BaseController, inherited))).toBe('base');
    const { plain } = PlainController.prototype;
    expect(routeMetadata(reflector, KEY, context(PlainController, plain))).toBeUndefined();
  });

  it('keeps apart the classes one inherited handler serves', () => {
    const reflector = new Reflector();
    const { inherited } = BaseController.prototype;
    expect(routeMetadata(reflector, KEY, context(DerivedController, inherited))).toBe('derived');
    expect(routeMetadata(reflector, KEY, context(BaseController, inherited))).toBe('base');
    expect(routeMetadata(reflector, KEY, context(DerivedController, inherited))).toBe('derived');
  });

  it('asks the reflector once per route and key, an absent value included', () => {
    class Once {
      read(): void {}
    }
    const reflector = new Reflector();
    const read = jest.spyOn(reflector, 'getAllAndOverride');
    const route = context(Once, Once.prototype.read);
    for (let i = 0; i < 3; i++) expect(routeMetadata(reflector, KEY, route)).toBeUndefined();
    expect(read).toHaveBeenCalledTimes(1);
  });
});

describe('routeMetadata with several reflectors or a context built by hand', () => {
  it('remembers per reflector: a host reflector of its own is asked too', () => {
    class Shared {
      read(): void {}
    }
    const route = context(Shared, Shared.prototype.read);
    const own = new Reflector();
    jest.spyOn(own, 'getAllAndOverride').mockReturnValue('from the host');
    expect(routeMetadata(new Reflector(), KEY, route)).toBeUndefined();
    expect(routeMetadata(own, KEY, route)).toBe('from the host');
  });

  it('reads a context without a class as the reflector does, handler first', () => {
    const { own } = BaseController.prototype;
    const noClass = context(undefined as unknown as object, own);
    expect(routeMetadata(new Reflector(), KEY, noClass)).toBe('handler');
  });
});

describe('handlerMetadata', () => {
  it("reads the handler's own value only, once", () => {
    const reflector = new Reflector();
    const read = jest.spyOn(reflector, 'get');
    const { inherited, own } = BaseController.prototype;
    for (let i = 0; i < 2; i++) {
      expect(handlerMetadata(reflector, KEY, context(BaseController, own))).toBe('handler');
      expect(handlerMetadata(reflector, KEY, context(BaseController, inherited))).toBeUndefined();
    }
    expect(read).toHaveBeenCalledTimes(2);
  });
});
