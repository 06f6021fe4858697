import { createParamDecorator, ExecutionContext } from '@nestjs/common';

import { clientAddress } from '../../throttling/client-key.js';

/** What Fastify and Express requests both carry. */
interface ClientRequest {
  ip?: string;
  socket?: { remoteAddress?: string };
}

/**
 * The caller's address, for limits and the session list: what `@Ip()` gives (X-Forwarded-For
 * behind a trusted proxy), with a port dropped and one spelling per address; a forwarded value
 * that is no IP address falls back to the connecting socket's address (see clientAddress).
 */
export const ClientIp = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const request = ctx.switchToHttp().getRequest<ClientRequest>();
  return clientAddress(request.ip, request.socket?.remoteAddress);
});
