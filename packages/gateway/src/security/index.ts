/**
 * The gateway's perimeter, assembled from its settings: what `http/app.ts` mounts around
 * each route. Pure checks live in origin.ts, ssrf.ts and rate-limit.ts; these are the
 * adapters, each a named middleware so stack traces and logs read well.
 */
import type { AuthVariables, Identity } from '@meshgate/service-kit';
import type { MiddlewareHandler } from 'hono';
import type { GatewayError } from '../errors.js';
import type { SecurityConfig } from './config.js';
import { checkHost, checkOrigin, originGuard } from './origin.js';
import { rateLimit, rateLimitedError, TokenRateLimiter } from './rate-limit.js';
import type { ErrorFormat } from './reply.js';
import { serviceUrlGuard } from './ssrf.js';

export interface Perimeter {
  /** Origin and Host check (DNS rebinding): mount before authentication. */
  guard(format: ErrorFormat): MiddlewareHandler;
  /** Per-token rate limit: mount after authentication. Passes everything when limits are off. */
  limit<I extends Identity>(format: ErrorFormat): MiddlewareHandler<{ Variables: AuthVariables<I> }>;
  /** The SSRF check for registered service URLs; throws `invalid_url`. */
  checkUrl(url: string): Promise<void>;
  /** The `/mcp` pipeline's Origin and Host check: why `guard` would refuse these headers, or undefined. */
  refusal(host: string | undefined, origin: string | undefined): string | undefined;
  /**
   * The `/mcp` pipeline's rate limit: takes one request from `name`'s budget and returns
   * undefined, or the `rate_limited` refusal. Settled at once when limits are off.
   */
  overLimit(name: string): GatewayError | undefined | Promise<GatewayError | undefined>;
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
    refusal: (host, origin) => {
      const verdict = checkHost(host, config.origin.hosts);
      const both = verdict.ok ? checkOrigin(origin, config.origin.origins) : verdict;
      return both.ok ? undefined : both.message;
    },
    overLimit:
      limiter === undefined
        ? () => undefined
        : async (name) => {
            const verdict = await limiter.take(name);
            return verdict.ok ? undefined : rateLimitedError(limiter.perMinute, verdict.retryAfterSeconds);
          },
  };
}

export type { SecurityConfig } from './config.js';
export { checkHost, checkOrigin, type OriginPolicy } from './origin.js';
export { checkServiceUrl, classifyAddress } from './ssrf.js';
