import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'guardhouse:isPublic';

/** Opts a route (or controller) out of the global authentication. Tokens are not read. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
