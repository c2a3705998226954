import type { AuthVariables, Identity } from '@meshgate/service-kit';
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../errors.js';
import type { Perimeter } from '../security/index.js';

/** A refusal of an admin API request, in the REST shape: `{ error, message }` with the catalogue's status. */
export function restRefusal(error: GatewayError): Response {
  return new Response(JSON.stringify(error.toJSON()), { status: error.status, headers: { 'content-type': 'application/json', ...error.headers } });
}

/** The admin API's Origin and Host check (403), before authentication, so a rebinding page learns nothing. */
export function originGuard(perimeter: Perimeter): MiddlewareHandler {
  return async function originGuardMiddleware(c, next) {
    // node always has a Host header for HTTP/1.1; in-process requests (app.request) carry it in the URL.
    const refusal = perimeter.refusal(c.req.header('host') ?? new URL(c.req.url).host, c.req.header('origin'));
    if (refusal !== undefined) {
      return restRefusal(new GatewayError('forbidden', refusal));
    }
    await next();
  };
}

/** The admin API's per-token rate limit (429 with Retry-After), after authentication. */
export function rateLimitGuard<I extends Identity>(perimeter: Perimeter): MiddlewareHandler<{ Variables: AuthVariables<I> }> {
  return async function rateLimitMiddleware(c, next) {
    const over = await perimeter.overLimit(c.get('identity').name);
    if (over !== undefined) return restRefusal(over);
    await next();
  };
}
