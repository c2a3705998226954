/**
 * The gateway's perimeter, assembled from its settings: what `http/app.ts` mounts around
 * each route. Pure checks live in origin.ts, ssrf.ts and rate-limit.ts; these are the
 * adapters, each a named middleware so stack traces and logs read well.
 */
import type { AuthVariables, Identity } from '@meshgate/service-kit';
import type { MiddlewareHandler } from 'hono';
import type { SecurityConfig } from './config.js';
import { checkHost, checkOrigin, originGuard } from './origin.js';
import { rateLimit, TokenRateLimiter } from './rate-limit.js';
import type { ErrorFormat } from './reply.js';
import { serviceUrlGuard } from './ssrf.js';

export interface Perimeter {
  /** Origin and Host check (DNS rebinding): mount before authentication. */
  guard(format: ErrorFormat): MiddlewareHandler;
  /** Per-token rate limit: mount after authentication. Passes everything when limits are off. */
  limit<I extends Identity>(format: ErrorFormat): MiddlewareHandler<{ Variables: AuthVariables<I> }>;
  /** The SSRF check for registered service URLs; throws `invalid_url`. */
  checkUrl(url: string): Promise<void>;
  /**
   * For a lane in front of the middleware (http/mcp-lane.ts): true when `guard` would let
   * these headers through. A lane serves only what passes and hands the rest to the routes.
   */
  admits(host: string | undefined, origin: string | undefined): boolean;
  /** For a lane: takes one request from `name`'s budget; false when `limit` would answer 429 (at once when limits are off). */
  withinLimit(name: string): boolean | Promise<boolean>;
}

/** Builds the perimeter. One rate limiter is shared by every route, so a token has one budget. */
export function createPerimeter(config: SecurityConfig): Perimeter {
  const limiter = config.rateLimitPerMinute > 0 ? new TokenRateLimiter(config.rateLimitPerMinute) : undefined;
  return {
    guard: (format) => originGuard({ policy: config.origin, format }),
    limit: (format) =>
      limiter === undefined
        ? async function rateLimitOff(_c, next) {
            await next();
          }
        : rateLimit({ limiter, format }),
    checkUrl: serviceUrlGuard({ allowPrivateNetworks: config.allowPrivateNetworks }),
    admits: (host, origin) => checkHost(host, config.origin.hosts).ok && checkOrigin(origin, config.origin.origins).ok,
    withinLimit: limiter === undefined ? () => true : async (name) => (await limiter.take(name)).ok,
  };
}

export type { SecurityConfig } from './config.js';
export { checkHost, checkOrigin, type OriginPolicy } from './origin.js';
export { checkServiceUrl, classifyAddress } from './ssrf.js';
