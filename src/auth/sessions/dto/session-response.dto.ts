import { ApiProperty } from '@nestjs/swagger';

import type { SessionView } from '../sessions.service.js';

/** One open session (login) of a user. */
export class SessionResponseDto {
  /** The session id (`sid` in its access tokens). */
  id!: string;
  /** When the login happened. */
  createdAt!: Date;
  /** Last authenticated request (updated at most once a minute), else the login time. */
  lastUsedAt!: Date;
  @ApiProperty({ type: String, nullable: true, description: 'Client address at login' })
  ip!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'User-Agent header at login' })
  userAgent!: string | null;
  /** True for the session the request's own access token belongs to. */
  current!: boolean;
}

export function toSessionResponse(view: SessionView, currentId?: string): SessionResponseDto {
  return { ...view, current: view.id === currentId };
}
