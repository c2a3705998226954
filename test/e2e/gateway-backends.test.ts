/**
 * Upstream interop (issue 4): backends on SDK v1 and SDK v2, with sessions and without,
 * federated side by side and called through the gateway. (server-everything, a v1 server
 * with sessions nobody here wrote, has its own test: interop-everything.test.ts.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, startV1Stateless, startV2Handler } from '../fixtures/sdk-backends.js';
import { api, FIXTURE_CREDENTIAL, rpc, startFixtureService, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

let gateway: StartedProcess;
const backends: Backend[] = [];

beforeAll(async () => {
  const config = join(mkdtempSync(join(tmpdir(), 'meshgate-cfg-')), 'services.json');
  writeFileSync(config, JSON.stringify({ services: [] }));
  gateway = await startGateway({ MESHGATE_CONFIG: config });
  const [v1, v2, sessions] = await Promise.all([
    startV1Stateless('v1-stateless'),
    startV2Handler('v2-handler'),
    startFixtureService('v2-sessions', ['whoami']),
  ]);
  backends.push(v1, v2, { url: sessions.url, close: () => sessions.close() });
  // The fixture with sessions wants the gateway's own upstream token (the default credential).
  for (const [name, backend, credential] of [
    ['v1-stateless', v1, { none: true }],
    ['v2-handler', v2, { none: true }],
    ['v2-sessions', backends[2]!, FIXTURE_CREDENTIAL],
  ] as const) {
    const registered = await api(gateway.url, 'POST', '/register', { name, url: backend.url, credential });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  }
});
afterAll(async () => {
  await stopAll();
  await Promise.allSettled(backends.map((backend) => backend.close()));
});

describe('backends of both SDKs, with and without sessions', () => {
  it("lists every backend's tool, the later ones qualified", async () => {
    const { body } = await rpc(gateway.url, 'tools/list');
    expect(body.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['whoami', 'v2-handler__whoami', 'v2-sessions__whoami']);
  });

  it.each([
    ['v1-stateless__whoami', 'v1-stateless'],
    ['v2-handler__whoami', 'v2-handler'],
  ])('calls %s', async (tool, expected) => {
    const { body } = await rpc(gateway.url, 'tools/call', { name: tool, arguments: {} });
    expect(body.result?.content, JSON.stringify(body)).toEqual([{ type: 'text', text: expected }]);
  });

  it('calls the fixture with sessions', async () => {
    const { body } = await rpc(gateway.url, 'tools/call', { name: 'v2-sessions__whoami', arguments: { id: '1' } });
    expect(body.result?.structuredContent, JSON.stringify(body)).toMatchObject({ from: 'v2-sessions' });
  });

  it('shows all three up', async () => {
    const { body } = await api(gateway.url, 'GET', '/services');
    expect(Object.fromEntries(body.services.map((s: { name: string; status: string }) => [s.name, s.status]))).toEqual({
      'v1-stateless': 'up',
      'v2-handler': 'up',
      'v2-sessions': 'up',
    });
  });
});
