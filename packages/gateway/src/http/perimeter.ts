import type { AuthVariables, Identity } from '@meshgate/service-kit';
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../errors.js';
import { corsPreflightHeaders, corsResponseHeaders, isPreflight, type Perimeter } from '../security/index.js';

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

/**
 * CORS for the admin API, after the Origin/Host check (a refused page got its 403 with no
 * CORS headers) and before authentication: a browser sends its preflight without the token.
 * Every other answer to an allowed page, errors included, carries the CORS headers.
 */
export function corsGuard(perimeter: Perimeter, methods = 'GET, POST, PUT, DELETE'): MiddlewareHandler {
  return async function corsMiddleware(c, next) {
    const origin = perimeter.corsOrigin(c.req.header('origin'));
    if (origin === undefined) return next();
    if (isPreflight(c.req.method, c.req.header('access-control-request-method'))) {
      return new Response(null, { status: 204, headers: corsPreflightHeaders(origin, methods, c.req.header('access-control-request-headers')) });
    }
    await next();
    for (const [name, value] of Object.entries(corsResponseHeaders(origin))) c.res.headers.set(name, value);
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
