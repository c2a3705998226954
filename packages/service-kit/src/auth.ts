import type { MiddlewareHandler } from 'hono';
import { parseBearer } from './bearer.js';
import { JSONRPC_SERVER_ERROR, jsonRpcError } from './jsonrpc.js';

/** What an authenticated caller is; services only need a name, the gateway adds roles. */
export interface Identity {
  /** Stable name of the credential, used to bind sessions and in logs (never the secret). */
  readonly name: string;
}

export type Authenticate<I extends Identity> = (token: string) => I | undefined | Promise<I | undefined>;

export interface BearerAuthOptions<I extends Identity> {
  authenticate: Authenticate<I>;
  /** `jsonrpc` answers with a JSON-RPC error object (for /mcp), `rest` with `{ error, message }`. */
  format?: 'jsonrpc' | 'rest';
  /**
   * Extra parameters for the WWW-Authenticate challenge, e.g. resource_metadata; a function
   * when they depend on the request (the URL a client reached the server by).
   */
  challengeParams?: Record<string, string> | ((request: Request) => Record<string, string>);
}

export type AuthVariables<I extends Identity = Identity> = { identity: I };

/** Why a request's Bearer credential was refused, as a client is told after "Unauthorized: ". */
export const BEARER_REFUSALS = {
  missing: 'Missing Authorization header; send "Authorization: Bearer <token>"',
  scheme: 'Authorization must use the Bearer scheme',
  empty: 'Empty Bearer token',
  invalid: 'Invalid Bearer token',
} as const;

/** Hono middleware: checks `Authorization: Bearer`, answers 401 with a challenge, sets `identity`. */
export function bearerAuth<I extends Identity>(options: BearerAuthOptions<I>): MiddlewareHandler<{ Variables: AuthVariables<I> }> {
  const challengeFor = (request: Request): string => {
    const extra = typeof options.challengeParams === 'function' ? options.challengeParams(request) : options.challengeParams;
    return Object.entries({ realm: 'meshgate', ...extra })
      .map(([key, value]) => `${key}="${value}"`)
      .join(', ');
  };
  const unauthorized = (request: Request, reason: keyof typeof BEARER_REFUSALS): Response => {
    const message = `Unauthorized: ${BEARER_REFUSALS[reason]}`;
    const body = options.format === 'rest' ? { error: 'unauthorized', message } : jsonRpcError(null, JSONRPC_SERVER_ERROR, message);
    const error = reason === 'missing' ? '' : ', error="invalid_token"';
    return new Response(JSON.stringify(body), {
      status: 401,
      headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer ${challengeFor(request)}${error}` },
    });
  };
  return async function bearerAuthMiddleware(c, next) {
    const parsed = parseBearer(c.req.header('authorization'));
    if (!parsed.ok) return unauthorized(c.req.raw, parsed.reason);
    const identity = await options.authenticate(parsed.token);
    if (identity === undefined) return unauthorized(c.req.raw, 'invalid');
    c.set('identity', identity);
    await next();
  };
}
