/**
 * The gateway's perimeter, assembled from its settings: Origin and Host checks (origin.ts),
 * CORS for allowed pages (cors.ts), the SSRF guard for registered URLs (ssrf.ts) and
 * per-token rate limits (rate-limit.ts),
 * as plain functions. The HTTP layer applies them: the /mcp pipeline's stages and the
 * admin API's middleware (http/perimeter.ts) call the same ones.
 */

import { Agent } from 'undici';
import type { GatewayError } from '../errors.js';
import type { Dial } from '../upstream/transport.js';
import { AuthFailureThrottle } from './auth-throttle.js';
import type { SecurityConfig } from './config.js';
import { corsOrigin } from './cors.js';
import type { SharedLimits } from './limiter-store.js';
import { checkHost, checkOrigin } from './origin.js';
import { rateLimitedError, TokenRateLimiter } from './rate-limit.js';
import { guardedLookup, serviceUrlGuard } from './ssrf.js';

export interface Perimeter {
  /** The SSRF check for registered service URLs; throws `invalid_url`. */
  checkUrl(url: string): Promise<void>;
  /** The SSRF check at every connect to a registered service: the addresses dialled are the ones checked. */
  readonly dial: Dial;
  /** The Origin and Host check (DNS rebinding): why these headers are refused, or undefined. Runs before authentication. */
  refusal(host: string | undefined, origin: string | undefined): string | undefined;
  /** The origin to echo in CORS headers: an allowed page's own origin, else undefined (no Origin, or one `refusal` refuses). */
  corsOrigin(origin: string | undefined): string | undefined;
  /**
   * The per-token rate limit: takes one request from `name`'s budget and returns undefined,
   * or the `rate_limited` refusal. Runs after authentication; settled at once when limits are off.
   */
  overLimit(name: string): GatewayError | undefined | Promise<GatewayError | undefined>;
  /**
   * The failed-authentication throttle of a client address: the `too_many_auth_failures`
   * refusal when it is past its budget, checked before its token; settled at once for an
   * address that has not failed lately, or when the throttle is off.
   */
  authRefusal(address: string | undefined): GatewayError | undefined | Promise<GatewayError | undefined>;
  /** Counts a failed authentication (a token was given and refused) from `address`. */
  authFailed(address: string | undefined): void;
  /** Closes the connections `dial`'s dispatcher holds (health probes); after the upstream connections. */
  close(): Promise<void>;
}

/**
 * Builds the perimeter. One rate limiter is shared by every route, so a token has one
 * budget; with `shared` (the database replicas share) it is one budget across replicas.
 */
export function createPerimeter(config: SecurityConfig, shared?: SharedLimits): Perimeter {
  const limiter = config.rateLimitPerMinute > 0 ? new TokenRateLimiter(config.rateLimitPerMinute, shared) : undefined;
  const throttle = config.authFailuresPerMinute > 0 ? new AuthFailureThrottle(config.authFailuresPerMinute, shared) : undefined;
  const policy = { allowPrivateNetworks: config.allowPrivateNetworks };
  const lookup = guardedLookup(policy);
  const dispatcher = new Agent({ connect: { lookup } });
  return {
    checkUrl: serviceUrlGuard(policy),
    dial: { lookup, dispatcher },
    close: () => dispatcher.destroy().catch(() => undefined),
    refusal: (host, origin) => {
      const verdict = checkHost(host, config.origin.hosts);
      const both = verdict.ok ? checkOrigin(origin, config.origin.origins) : verdict;
      return both.ok ? undefined : both.message;
    },
    authRefusal: (address) => (throttle === undefined || address === undefined ? undefined : throttle.refusal(address)),
    authFailed: (address) => {
      if (address !== undefined) throttle?.failed(address);
    },
    corsOrigin: (origin) => corsOrigin(origin, config.origin.origins),
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
export { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, corsPreflightHeaders, corsResponseHeaders, isPreflight } from './cors.js';
export type { SharedLimits } from './limiter-store.js';
export { checkHost, checkOrigin, hasRepeatedHost, type OriginPolicy } from './origin.js';
export { AddressRefusedError, checkServiceUrl, classifyAddress, guardedLookup } from './ssrf.js';
