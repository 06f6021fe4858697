import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/**
 * The caller's `User-Agent` header, or undefined. Unlike `@Headers('user-agent')`, it does not
 * put a required header parameter into the OpenAPI document: browsers (Swagger UI included)
 * cannot set that header, and clients without one are welcome.
 */
export const UserAgent = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined => {
    const header = ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers[
      'user-agent'
    ];
    return typeof header === 'string' ? header : undefined;
  },
);
