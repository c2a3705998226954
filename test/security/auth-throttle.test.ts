/**
 * The failed-authentication throttle of the second hostile-input round (docs/security.md,
 * "Round two"): tokens could be guessed from one address as fast as the gateway answered.
 * Now MESHGATE_AUTH_FAILURES_PER_MINUTE failures from one address (here 5) put it past
 * its budget: every request from it, a valid token's too, is 429 with `Retry-After`
 * before any token is looked at, on `/mcp` and on the admin API alike. A request with no
 * token at all is not a guess and is not counted; `/health` is not throttled.
 */
import { describe, expect, it } from 'vitest';
import { api, rpc, TOKEN } from '../helpers/mesh.js';
import { expectAlive, recordingGateway } from './harness.js';

const BUDGET = 5;
const context = recordingGateway({ MESHGATE_AUTH_FAILURES_PER_MINUTE: String(BUDGET) });

describe('failed authentications per client address', () => {
  it('no token is not a guess: any number of those are 401', async () => {
    for (let i = 0; i < BUDGET * 2; i += 1) expect((await rpc(context.gateway.url, 'tools/list', undefined, { token: null })).status).toBe(401);
    expect((await rpc(context.gateway.url, 'tools/list')).status).toBe(200);
  });

  it('past the budget of wrong tokens the address gets 429 with Retry-After, valid token or not, on /mcp and the admin API', async () => {
    const { gateway, backend } = context;
    for (let i = 0; i < BUDGET; i += 1) expect((await rpc(gateway.url, 'tools/list', undefined, { token: `wrong-${i}` })).status).toBe(401);
    const before = backend.caused().length;
    const guessed = await rpc(gateway.url, 'tools/list', undefined, { token: 'wrong-again' });
    expect(guessed.status).toBe(429);
    expect(Number(guessed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(guessed.body.error.message).toMatch(/Too many failed authentications from this address/);
    const valid = await rpc(gateway.url, 'tools/list', undefined, { token: TOKEN });
    expect(valid.status).toBe(429);
    const admin = await api(gateway.url, 'GET', '/services', undefined, TOKEN);
    expect(admin.status).toBe(429);
    expect(admin.body).toMatchObject({ error: 'too_many_auth_failures' });
    expect(admin.headers.get('retry-after')).not.toBeNull();
    expect(backend.caused().length).toBe(before);
    await expectAlive(gateway);
  });
});
