import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { isValidObjectId } from 'mongoose';

export const OBJECT_ID_PATTERN = /^[0-9a-f]{24}$/i;

export function assertObjectId(value: unknown, name = 'id'): string {
  if (typeof value !== 'string' || !OBJECT_ID_PATTERN.test(value) || !isValidObjectId(value)) {
    throw new BadRequestException(`${name} must be a 24-character hex ObjectId`);
  }
  return value;
}

/** 400 for an id that cannot be an ObjectId, instead of a cast error deeper down. */
@Injectable()
export class ParseObjectIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    return assertObjectId(value);
  }
}
