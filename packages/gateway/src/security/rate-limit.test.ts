import { describe, expect, it } from 'vitest';
import { TokenRateLimiter } from './rate-limit.js';

describe('TokenRateLimiter', () => {
  it('allows the budget, then refuses with a wait of at most a minute', async () => {
    const limiter = new TokenRateLimiter(3);
    for (let i = 0; i < 3; i += 1) expect(await limiter.take('alice')).toEqual({ ok: true });
    const refused = await limiter.take('alice');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    if (!refused.ok) expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('keeps one budget per identity', async () => {
    const limiter = new TokenRateLimiter(1);
    expect((await limiter.take('alice')).ok).toBe(true);
    expect((await limiter.take('bob')).ok).toBe(true);
    expect((await limiter.take('alice')).ok).toBe(false);
  });

  it('refuses a budget that is not a positive integer', () => {
    expect(() => new TokenRateLimiter(0)).toThrow(RangeError);
  });
});
