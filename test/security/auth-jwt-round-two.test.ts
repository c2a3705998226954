/**
 * The JWT lows of the second hostile-input round (docs/security.md, "Round two"):
 * - two subjects mapped to one identity: a `sub` holding the `#` that separates the
 *   allow-list fingerprint (`alice#<fingerprint>`, no tools) was the identity of `alice`
 *   with those tools, and could use her sessions;
 * - a refused JWT is verified once per request (one JWKS fetch while the JWKS fails), on
 *   `/mcp` and on the admin API alike;
 * - the JWKS answer is bounded in size (declared or streamed), and its fetch in time.
 * The JWKS here is served by a switchable server in front of the test issuer's keys.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUER, startTestIssuer, type TestIssuer } from '../helpers/jwks.js';
import { type AuthMesh, startAuthMesh } from './auth-fixture.js';
import { expectAlive, postMcp } from './harness.js';

const RESOURCE = 'https://meshgate.test/mcp';
type Mode = 'ok' | 'error' | 'huge-declared' | 'huge-streamed' | 'hang';

let issuer: TestIssuer;
let mesh: AuthMesh;
let jwks: Server;
let mode: Mode = 'error';
let fetches = 0;
const hanging = new Set<ServerResponse>();

beforeAll(async () => {
  issuer = await startTestIssuer(RESOURCE);
  const keys = (await (await fetch(issuer.jwksUrl)).json()) as { keys: unknown[] };
  jwks = createServer((_request, response) => {
    fetches += 1;
    const padded = JSON.stringify({ keys: keys.keys, padding: 'x'.repeat(1024 * 1024) });
    switch (mode) {
      case 'ok':
        return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(keys));
      case 'error':
        return void response.writeHead(500).end();
      case 'huge-declared':
        return void response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(padded.length) }).end(padded);
      case 'huge-streamed':
        response.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length declared
        response.write(padded.slice(0, padded.length / 2));
        return void response.end(padded.slice(padded.length / 2));
      case 'hang':
        hanging.add(response);
        return;
    }
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const { port } = jwks.address() as AddressInfo;
  mesh = await startAuthMesh({
    MESHGATE_JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
    MESHGATE_JWT_ISSUER: ISSUER,
    MESHGATE_RESOURCE_URL: RESOURCE,
    MESHGATE_JWT_TOOLS_CLAIM: 'mcp_tools',
  });
});
afterAll(async () => {
  for (const response of hanging) response.destroy();
  jwks?.closeAllConnections();
  jwks?.close();
  await mesh?.close();
  await issuer?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

describe('JWT, round two', () => {
  it('a refused JWT costs one JWKS fetch per request, on /mcp and on the admin API', async () => {
    mode = 'error';
    const token = await issuer.sign({ scope: 'mcp:tools mcp:admin' });
    const before = fetches;
    expect((await postMcp(mesh.gateway, list, bearer(token))).status).toBe(401);
    expect(fetches - before).toBe(1);
    const admin = await fetch(`${mesh.gateway.url}/services`, { headers: bearer(token) });
    expect(admin.status).toBe(401);
    expect(fetches - before).toBe(2);
  });

  it.each([
    ['declared', 'huge-declared'],
    ['streamed', 'huge-streamed'],
  ] as const)('a JWKS over the size bound (%s) is refused: the token is 401 and the log says why', async (_how, huge) => {
    mode = huge;
    const token = await issuer.sign({ scope: 'mcp:tools' });
    expect((await postMcp(mesh.gateway, list, bearer(token))).status).toBe(401);
    expect(mesh.gateway.output()).toMatch(/the JWKS (is \d+ bytes, more than|is larger than) the \d+ (bytes )?the gateway reads/);
  });

  it('a JWKS that never answers fails the token once its fetch times out', async () => {
    mode = 'hang';
    const token = await issuer.sign({ scope: 'mcp:tools' });
    const answer = await postMcp(mesh.gateway, list, bearer(token));
    expect(answer.status).toBe(401);
    await expectAlive(mesh.gateway);
  }, 20_000);

  it('a subject holding the fingerprint separator is another identity: it cannot use the session of the subject it imitates', async () => {
    mode = 'ok';
    const tools = ['lookup'];
    const fingerprint = createHash('sha256').update(JSON.stringify(tools)).digest('hex').slice(0, 12);
    const alice = await issuer.sign({ sub: 'alice', scope: 'mcp:tools', mcp_tools: tools });
    const impostor = await issuer.sign({ sub: `alice#${fingerprint}`, scope: 'mcp:tools' });
    const init = await postMcp(
      mesh.gateway,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'a', version: '1' } },
      }),
      bearer(alice),
    );
    const session = init.headers.get('mcp-session-id') ?? '';
    expect(session).not.toBe('');
    expect((await postMcp(mesh.gateway, list, { ...bearer(alice), 'mcp-session-id': session })).status).toBe(200);
    const taken = await postMcp(mesh.gateway, list, { ...bearer(impostor), 'mcp-session-id': session });
    expect(taken.status).toBe(404);
  });
});
