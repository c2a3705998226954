import type { AuthVariables } from '@meshgate/service-kit';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { rateLimit, TokenRateLimiter } from './rate-limit.js';

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

describe('rateLimit middleware', () => {
  it('answers 429 with Retry-After and a JSON-RPC error once over budget', async () => {
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use('/mcp', async function fakeAuth(c, next) {
      c.set('identity', { name: 'alice' });
      await next();
    });
    app.use('/mcp', rateLimit({ limiter: new TokenRateLimiter(1), format: 'jsonrpc' }));
    app.post('/mcp', (c) => c.text('ok'));
    expect((await app.request('/mcp', { method: 'POST' })).status).toBe(200);
    const refused = await app.request('/mcp', { method: 'POST' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32014 } });
  });
});
