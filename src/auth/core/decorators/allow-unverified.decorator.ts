import { SetMetadata } from '@nestjs/common';

export const ALLOW_UNVERIFIED_KEY = 'guardhouse:allowUnverified';

/**
 * Lets accounts whose email is not verified through even when `requireVerifiedEmail` is on (the
 * kit's own auth routes and `/users/me` carry it). Public routes never need it.
 */
export const AllowUnverified = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ALLOW_UNVERIFIED_KEY, true);
