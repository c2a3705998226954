/**
 * Per-identity rate limits: one fixed one-minute window per token name, in memory (one
 * gateway process; replicas would each allow the budget, and a shared store plugs in
 * through rate-limiter-flexible's other backends). Keyed by the authenticated identity, so
 * it runs after authentication and a caller cannot dodge it by changing address.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { GatewayError } from '../errors.js';

export type RateVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Counts requests per key against a per-minute budget. */
export class TokenRateLimiter {
  readonly #limiter: RateLimiterMemory;

  constructor(readonly perMinute: number) {
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new RangeError('perMinute must be a positive integer');
    this.#limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
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
