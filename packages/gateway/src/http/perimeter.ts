import type { IncomingMessage } from 'node:http';
import { type AuthVariables, type Identity, parseBearer } from '@meshgate/service-kit';
import type { Context, MiddlewareHandler } from 'hono';
import type { GatewayAuth } from '../auth/authenticator.js';
import { GatewayError } from '../errors.js';
import { corsPreflightHeaders, corsResponseHeaders, hasRepeatedHost, isPreflight, type Perimeter } from '../security/index.js';

/** A refusal of an admin API request, in the REST shape: `{ error, message }` with the catalogue's status. */
export function restRefusal(error: GatewayError): Response {
  return new Response(JSON.stringify(error.toJSON()), { status: error.status, headers: { 'content-type': 'application/json', ...error.headers } });
}

/** node's request behind a Hono context (@hono/node-server's bindings), when served over a socket. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * The Host a request reached. node always has the header for HTTP/1.1; in-process
 * requests (app.request) carry it in the URL. Never the request target's host: an
 * absolute-form target (`POST http://evil.example/register`) names whatever it likes.
 */
export function requestHost(c: Context): string {
  return c.req.header('host') ?? new URL(c.req.url).host;
}

/**
 * One Host (400), then the Host check alone (403): for what any origin may read (the
 * protected resource metadata), which still must not name a host the gateway refuses.
 */
export function hostRefusal(perimeter: Perimeter, c: Context, origin?: string): GatewayError | undefined {
  if (hasRepeatedHost(incomingOf(c)?.rawHeaders ?? [])) {
    return new GatewayError('duplicate_host', 'Bad Request: the request has more than one Host header; send one');
  }
  const refusal = perimeter.refusal(requestHost(c), origin);
  return refusal === undefined ? undefined : new GatewayError('forbidden', refusal);
}

/** The admin API's Host and Origin check (400, 403), before authentication, so a rebinding page learns nothing. */
export function originGuard(perimeter: Perimeter): MiddlewareHandler {
  return async function originGuardMiddleware(c, next) {
    const refusal = hostRefusal(perimeter, c, c.req.header('origin'));
    if (refusal !== undefined) return restRefusal(refusal);
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

/**
 * Whether an open route's caller holds a valid token (any role), for what such a route
 * tells only them. A refused token counts against the address like anywhere else, and an
 * address past its budget is treated as holding none.
 */
export function callerHasToken(auth: GatewayAuth, perimeter: Perimeter): (c: Context) => Promise<boolean> {
  return async function callerHasValidToken(c) {
    const bearer = parseBearer(c.req.header('authorization'));
    if (!bearer.ok) return false;
    const address = incomingOf(c)?.socket.remoteAddress;
    if ((await perimeter.authRefusal(address)) !== undefined) return false;
    const identity = await auth.authenticate(bearer.token);
    if (identity === undefined) perimeter.authFailed(address);
    return identity !== undefined;
  };
}
