/**
 * CORS for browser clients of `/mcp` and the admin API (Fetch standard, "CORS protocol").
 * Which origins may call is the Origin policy of origin.ts (MESHGATE_ALLOWED_ORIGINS):
 * CORS only lets an allowed page read the answers. A refused origin never gets here (403
 * before anything else, with no CORS headers), so a rebinding page learns nothing.
 */
import { checkOrigin, type OriginPolicy } from './origin.js';

/** Request headers a browser MCP client sends besides the safelisted ones (Authorization is never covered by `*`). */
export const CORS_ALLOW_HEADERS: readonly string[] = [
  'Authorization',
  'Content-Type',
  'Accept',
  'Mcp-Session-Id',
  'MCP-Protocol-Version',
  'Mcp-Method',
  'Mcp-Name',
  'Last-Event-ID',
  'traceparent',
  'tracestate',
];

/** Response headers a page must be able to read: the session id, the negotiated version, the auth challenge. */
export const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After';

/** How long a browser may cache a preflight answer, in seconds (browsers cap it: Chromium at 7200). */
export const CORS_MAX_AGE_SECONDS = 7200;

/** 2026-07-28 clients send one `Mcp-Param-<name>` header per routed parameter; those names cannot be listed ahead. */
const PARAM_HEADER = /^mcp-param-[a-z0-9-]{1,64}$/;

/**
 * The origin to echo in `Access-Control-Allow-Origin`, or undefined when the request is not
 * a cross-origin one the policy allows. Never `*`: an allowed page sends its token, and the
 * echo with `Vary: Origin` keeps caches from serving one origin's answer to another. The
 * opaque origin `null` (sandboxed frames, file pages) is never echoed, even under `*`.
 */
export function corsOrigin(origin: string | undefined, allowed: OriginPolicy['origins']): string | undefined {
  if (origin === undefined || !checkOrigin(origin, allowed).ok) return undefined;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** True for a CORS preflight: OPTIONS naming the method the page wants to use. */
export function isPreflight(method: string | undefined, requestMethod: string | undefined): boolean {
  return method === 'OPTIONS' && requestMethod !== undefined && requestMethod !== '';
}

/** Headers for an actual (non-preflight) answer to an allowed origin. */
export function corsResponseHeaders(origin: string): Record<string, string> {
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSE_HEADERS, vary: 'Origin' };
}

/**
 * Headers for the 204 answering a preflight from an allowed origin. `methods` are the
 * route's own; requested `Mcp-Param-*` headers are allowed by name, other unknown ones are
 * left out (the browser then refuses the request itself).
 */
export function corsPreflightHeaders(origin: string, methods: string, requestHeaders: string | undefined): Record<string, string> {
  const extra = (requestHeaders ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => PARAM_HEADER.test(name));
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': methods,
    'access-control-allow-headers': [...CORS_ALLOW_HEADERS, ...new Set(extra)].join(', '),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
}
