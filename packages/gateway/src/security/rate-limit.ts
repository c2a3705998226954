/**
 * Per-identity rate limits: one fixed one-minute window per token name, in memory, or in the
 * database replicas share so that the budget is one across them (limiter-store.ts). Keyed by
 * the authenticated identity, so it runs after authentication and a caller cannot dodge it
 * by changing address.
 */
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { GatewayError } from '../errors.js';
import { fixedWindowLimiter, type SharedLimits } from './limiter-store.js';

export type RateVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Counts requests per key against a per-minute budget. */
export class TokenRateLimiter {
  readonly #limiter: RateLimiterAbstract;

  constructor(
    readonly perMinute: number,
    shared?: SharedLimits,
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new RangeError('perMinute must be a positive integer');
    this.#limiter = fixedWindowLimiter('token', perMinute, 60, shared);
  }

  /** Takes one request from `key`'s budget. */
  async take(key: string): Promise<RateVerdict> {
    try {
      await this.#limiter.consume(key);
      return { ok: true };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
      throw rejection;
    }
  }
}

/** The refusal of a request over its token's budget. */
export function rateLimitedError(perMinute: number, retryAfterSeconds: number): GatewayError {
  return new GatewayError('rate_limited', `Too many requests: this token may send ${perMinute} per minute; retry in ${retryAfterSeconds} s`, undefined, {
    'retry-after': String(retryAfterSeconds),
  });
}
