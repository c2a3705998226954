/**
 * Failed authentications per client address: past the budget, an address is refused
 * with 429 and `Retry-After` before its token is even looked at, so guessing tokens (or
 * JWTs that each cost a signature check) from one address is slowed to the budget. Keyed
 * by the socket's address: behind a proxy every client shares one, so the budget is then
 * the proxy's (raise the setting, or set it to 0 to turn this off). A request without
 * any token is not a guess and is not counted.
 */
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { GatewayError } from '../errors.js';
import { fixedWindowLimiter, type SharedLimits } from './limiter-store.js';

/** Addresses tracked at most; past it the ones whose failures are older than the window are forgotten. */
const MAX_TRACKED = 10_000;
const WINDOW_MS = 60_000;

export class AuthFailureThrottle {
  readonly #limiter: RateLimiterAbstract;
  /** Addresses with a failure in the last window, and when it was: only those need the limiter's (asynchronous) answer. */
  readonly #recent = new Map<string, number>();

  /**
   * With `shared`, failures count in the database replicas share. Each replica still asks
   * the count only for addresses that failed on it lately (`#recent`), so a request from an
   * address with no recent failure here costs no query: an address guessing through a
   * round-robin balancer fails on every replica soon, and from then on meets the shared count.
   */
  constructor(
    readonly perMinute: number,
    shared?: SharedLimits,
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new RangeError('perMinute must be a positive integer');
    this.#limiter = fixedWindowLimiter('auth-failures', perMinute, WINDOW_MS / 1000, shared);
  }

  /** The refusal for `address` if it is past its budget of failures; settled at once for an address that has not failed lately. */
  refusal(address: string): undefined | Promise<GatewayError | undefined> {
    const last = this.#recent.get(address);
    if (last === undefined) return undefined;
    if (Date.now() - last > WINDOW_MS) {
      this.#recent.delete(address);
      return undefined;
    }
    return this.#limiter.get(address).then((state) => {
      if (state === null || state.consumedPoints < this.perMinute) return undefined;
      const retryAfter = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
      return new GatewayError(
        'too_many_auth_failures',
        `Too many failed authentications from this address (at most ${this.perMinute} a minute); retry in ${retryAfter} s`,
        undefined,
        { 'retry-after': String(retryAfter) },
      );
    });
  }

  /** Counts one failed authentication from `address`. */
  failed(address: string): void {
    const now = Date.now();
    if (this.#recent.size >= MAX_TRACKED) {
      for (const [key, at] of this.#recent) if (now - at > WINDOW_MS) this.#recent.delete(key);
    }
    this.#recent.set(address, now);
    this.#limiter.penalty(address, 1).catch(() => undefined);
  }
}
