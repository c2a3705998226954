/**
 * docs/security.md, finding 3: the gateway never lends a secret token it accepts from
 * clients to a service by default. The seed's setup (one shared MCP_BEARER_TOKEN, which its
 * services check) keeps working for configured services, with a start-up warning. A
 * registered service gets no credential unless one is given, and may not ask for the
 * gateway's token while that token is also a client token; but for the seed's demo setup on
 * the public default token (`mcp-token-123`, which anybody can read in the docs), where the
 * seed's registration curl must work as written and lending the token gives nothing away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive, postMcp, type RecordingBackend, startGatewayFor, startRecordingBackend } from './harness.js';

const tool = { name: 'open-tool', inputSchema: { type: 'object' } };
let backend: RecordingBackend;
let open: ListingBackend;
let trusted: ListingBackend;
let seedLike: StartedProcess;
let separate: StartedProcess;
/** One shared token as in the seed, but a secret one: the case the finding is about. */
let sharedSecret: StartedProcess;
const SECRET = 'a-shared-secret-token-of-this-deployment';

beforeAll(async () => {
  [backend, open, trusted] = await Promise.all([startRecordingBackend(), startListingBackend({ tools: [tool] }), startListingBackend({ tools: [tool] })]);
  // `separate` federates the seed's two services, absent here: it only takes registrations.
  const absent = 'http://127.0.0.1:9/mcp';
  [seedLike, separate, sharedSecret] = await Promise.all([
    startGatewayFor(backend),
    startGateway({ MESHGATE_UPSTREAM_TOKEN: 'upstream-only-token', SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent }),
    startGateway({ MCP_BEARER_TOKEN: SECRET, SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent }),
  ]);
});
afterAll(async () => {
  await stopAll();
  await Promise.all([backend?.close(), open?.close(), trusted?.close()]);
});

const authorizations = (from: number) => open.headers.slice(from).map((headers) => headers.authorization);

describe('finding 3: client tokens are not sent upstream by default', () => {
  it('the configured service still gets the shared token, and the start-up log warns about it', async () => {
    expect((await postMcp(seedLike, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))).body.result.tools.length).toBe(1);
    expect(backend.seen.some((entry) => entry.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(seedLike.output()).toMatch(/service \\"recorder\\" is sent the gateway's upstream token, which clients also present/);
    expect(separate.output()).not.toMatch(/which clients also present/);
  });

  it('on a secret shared token, a service registered without a credential receives none', async () => {
    const from = open.headers.length;
    const { status, body } = await api(sharedSecret.url, 'POST', '/register', { name: 'open', url: open.url }, SECRET);
    expect(status).toBe(201);
    expect(body.credential).toEqual({ type: 'none' });
    expect(authorizations(from).length).toBeGreaterThan(0);
    expect(authorizations(from).every((value) => value === undefined)).toBe(true);
    await api(sharedSecret.url, 'DELETE', '/services/open', undefined, SECRET);
  });

  it("on a secret shared token, asking for the gateway's token is refused while it is also a client token", async () => {
    const from = open.headers.length;
    const { status, body } = await api(sharedSecret.url, 'POST', '/register', { name: 'greedy', url: open.url, credential: { gateway: true } }, SECRET);
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_credential');
    expect(body.message).toMatch(/MESHGATE_UPSTREAM_TOKEN/);
    expect(body.message).not.toContain(SECRET);
    expect(open.headers.length).toBe(from);
    await expectAlive(sharedSecret);
  });

  it("on the seed's public default token, a registration without a credential is lent it (the seed's curl), with a warning at start-up", async () => {
    const from = open.headers.length;
    const { status, body } = await api(seedLike.url, 'POST', '/register', { name: 'open', url: open.url });
    expect(status).toBe(201);
    expect(body.credential).toEqual({ type: 'gateway' });
    expect(new Set(authorizations(from))).toEqual(new Set([`Bearer ${TOKEN}`]));
    expect(seedLike.output()).toMatch(/runs on the public default token/);
    expect(sharedSecret.output()).not.toMatch(/runs on the public default token/);
    await api(seedLike.url, 'DELETE', '/services/open');
  });

  it('with a separate MESHGATE_UPSTREAM_TOKEN, {"gateway": true} sends that token, never a client one', async () => {
    const { status } = await api(separate.url, 'POST', '/register', { name: 'trusted', url: trusted.url, credential: { gateway: true } });
    expect(status).toBe(201);
    expect(new Set(trusted.headers.map((headers) => headers.authorization))).toEqual(new Set(['Bearer upstream-only-token']));
  });
});
