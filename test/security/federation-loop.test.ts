/**
 * docs/security.md, finding 8: a gateway refuses a service that leads back to itself, its
 * own /mcp or another gateway that federates it (each gateway names its instance, and the
 * ones behind it, in its initialize result); an already qualified name is never qualified
 * again; and a burst of list_changed from one service costs a bounded number of re-listings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, eventually, rpc, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive } from './harness.js';

const absent = 'http://127.0.0.1:9/mcp';
const seedless = { SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent, MESHGATE_UPSTREAM_TOKEN: 'gateway-to-gateway' };
const tool = (name: string) => ({ name, inputSchema: { type: 'object' } });
let a: StartedProcess;
let b: StartedProcess;
let one: ListingBackend;
let mirror: ListingBackend;

beforeAll(async () => {
  [a, b, one, mirror] = await Promise.all([
    startGateway(seedless),
    startGateway(seedless),
    startListingBackend({ tools: [tool('x')] }),
    startListingBackend({ tools: [tool('x'), tool('mirror__x')] }),
  ]);
});
afterAll(async () => {
  await stopAll();
  await Promise.all([one?.close(), mirror?.close()]);
});

const names = async (gateway: StartedProcess) => ((await api(gateway.url, 'GET', '/services')).body.services as Array<{ name: string }>).map((s) => s.name);
const toolNames = async (gateway: StartedProcess): Promise<string[]> =>
  (await rpc(gateway.url, 'tools/list')).body.result.tools.map((t: { name: string }) => t.name);

describe('finding 8: federation loops', () => {
  it("registering the gateway's own /mcp is refused with 400 federation_loop", async () => {
    // The seed's token is the admin token here, so the gateway can be given it only as a literal.
    const { status, body } = await api(a.url, 'POST', '/register', { name: 'loop', url: a.url, credential: { bearer: 'mcp-token-123' } });
    expect(status).toBe(400);
    expect(body.error).toBe('federation_loop');
    expect(body.message).toMatch(/is this gateway, or federates it/);
    expect(await names(a)).not.toContain('loop');
    await expectAlive(a);
  });

  it('two gateways federating each other: the second direction is refused', async () => {
    expect((await api(a.url, 'POST', '/register', { name: 'peer-b', url: b.url, credential: { bearer: 'mcp-token-123' } })).status).toBe(201);
    const { status, body } = await api(b.url, 'POST', '/register', { name: 'peer-a', url: a.url, credential: { bearer: 'mcp-token-123' } });
    expect(status).toBe(400);
    expect(body.error).toBe('federation_loop');
    expect(await names(b)).not.toContain('peer-a');
    await Promise.all([expectAlive(a), expectAlive(b)]);
  });

  it('an already qualified name is never qualified again', async () => {
    expect((await api(a.url, 'POST', '/register', { name: 'one', url: one.url })).status).toBe(201);
    expect((await api(a.url, 'POST', '/register', { name: 'mirror', url: mirror.url })).status).toBe(201);
    // The seed's services are absent here; their fallback tools (and peer-b's) list too.
    const tools = (await toolNames(a)).filter((name) => !/ById$/.test(name));
    expect(tools).toEqual(['x', 'mirror__x']);
    expect(tools.some((name) => name.split('__').length > 2)).toBe(false);
    const call = await rpc(a.url, 'tools/call', { name: 'mirror__x', arguments: {} });
    expect(call.body.result.content[0].text).toBe('called x');
    const clash = (await api(a.url, 'GET', '/services/mirror')).body.clashes.find((c: { name: string }) => c.name === 'mirror__x');
    expect(clash).toMatchObject({ service: 'mirror', exposedAs: null });
  });

  it('a stream of list_changed costs at most one re-listing a second', async () => {
    const listed = () => mirror.methods.filter((method) => method === 'tools/list').length;
    const before = listed();
    const started = Date.now();
    // 20 announcements 150 ms apart: each one past the 100 ms debounce, about 3 s in all.
    for (let i = 0; i < 20; i += 1) {
      mirror.setListings({ tools: [tool('x'), tool(`burst-${i}`)] });
      await new Promise((wake) => setTimeout(wake, 150));
    }
    await eventually('the last listing is federated', async () => (await toolNames(a)).includes('burst-19'));
    // At most one re-listing per started second (plus the first and a trailing one), far fewer than the announcements.
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(listed() - before).toBeGreaterThanOrEqual(1);
    expect(listed() - before).toBeLessThanOrEqual(Math.min(seconds + 2, 10));
    await expectAlive(a);
  });
});
