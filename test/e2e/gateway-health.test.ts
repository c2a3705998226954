/**
 * Health probing: a service is probed on its own /health (or with an MCP ping); one missed
 * probe makes it degraded, several make it down, and it comes back by itself. Status,
 * reason and the time of the change show in /health and /services.
 */
import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV1Stateless } from '../fixtures/sdk-backends.js';

import { api, eventually, FIXTURE_CREDENTIAL, rpc, startFixtureService, startGateway, TOKEN } from '../helpers/mesh.js';

import { type StartedProcess, stopAll } from '../helpers/process.js';
import { startRecordingProxy } from '../security/harness.js';

let gateway: StartedProcess;
let fixture: RunningService;
let healthy = true;

beforeAll(async () => {
  fixture = await startFixtureService('probed', ['probe-me'], undefined, () => ({ ok: healthy }));
  gateway = await startGateway({
    USER_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    MESHGATE_PROBE_INTERVAL_MS: '300',
  });
  expect((await api(gateway.url, 'POST', '/register', { name: 'probed', url: fixture.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
});
afterAll(async () => {
  await fixture?.close();
  await stopAll();
});

// With a token: the reasons of failures are shown only to callers holding one (docs/security.md).
const gatewayHealth = async () => (await (await fetch(`${gateway.url}/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()).services.probed;

describe('health probes', () => {
  it('a healthy service is up with the time of its last change', async () => {
    expect(await gatewayHealth()).toMatchObject({ status: 'up', since: expect.any(String), tools: 1 });
  });

  it('a failing /health makes it degraded, then down, with the reason shown', async () => {
    const before = (await gatewayHealth()).since;
    healthy = false;
    await eventually('degraded', async () => (await gatewayHealth()).status === 'degraded');
    const down = await eventually('down', async () => {
      const state = await gatewayHealth();
      return state.status === 'down' ? state : undefined;
    });
    expect(down.reason).toMatch(/503/);
    expect(down.since > before).toBe(true);
    const { body } = await api(gateway.url, 'GET', '/services/probed');
    expect(body).toMatchObject({ status: 'down', toolsFrom: 'fallback', lastError: expect.stringMatching(/503/) });
    // Its tools stay listed from the last catalog; calls fail fast naming it.
    const call = await rpc(gateway.url, 'tools/call', { name: 'probe-me', arguments: { id: '1' } });
    expect(call.body.error.data).toEqual({ service: 'probed' });
  });

  it('comes back up by itself once /health answers 200 again', async () => {
    healthy = true;
    await eventually('up again', async () => (await gatewayHealth()).status === 'up');
    const call = await rpc(gateway.url, 'tools/call', { name: 'probe-me', arguments: { id: '1' } });
    expect(call.body.result.structuredContent.from).toBe('probed');
    expect((await gatewayHealth()).reason).toBeUndefined();
  });
});

describe('a service without /health', () => {
  it('is probed with MCP ping on its session, and stays up while the pings are answered', async () => {
    const backend = await startV1Stateless('pinged');
    const recorder = await startRecordingProxy(backend.url, () => backend.close());
    let probing: StartedProcess | undefined;
    try {
      probing = await startGateway({
        USER_SERVICE_URL: 'http://127.0.0.1:9/mcp',
        SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp',
        MESHGATE_PROBE_INTERVAL_MS: '5',
      });
      expect((await api(probing.url, 'POST', '/register', { name: 'pinged', url: `${recorder.url}/mcp`, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
      const pings = () => recorder.methods().filter((method) => method === 'ping').length;
      await eventually('200 pings', async () => pings() >= 200);
      expect(recorder.seen.filter((entry) => entry.path === '/health').length, 'looked for /health once, at connect').toBe(1);
      expect((await (await fetch(`${probing.url}/health`)).json()).services.pinged.status).toBe('up');
    } finally {
      await probing?.stop();
      await recorder.close();
    }
  }, 30_000);
});

describe('a restarted service that is not ready yet when a call finds its session gone', () => {
  it('is reconnected in the background and serves calls once it is ready, without another call to trigger it', async () => {
    let ready = true;
    const health = () => ({ ok: ready });
    let service = await startFixtureService('restarting', ['whoami'], undefined, health);
    const port = Number(new URL(service.url).port);
    // No probes: only the call path can notice the restart.
    const quiet = await startGateway({
      USER_SERVICE_URL: 'http://127.0.0.1:9/mcp',
      SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp',
      MESHGATE_PROBE_INTERVAL_MS: '0',
    });
    try {
      expect((await api(quiet.url, 'POST', '/register', { name: 'restarting', url: service.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
      await service.close();
      ready = false;
      service = await startFixtureService('restarting', ['whoami'], undefined, health, port);
      // The call finds its session gone (404); the reconnect it tries is refused (/health 503).
      const failed = await rpc(quiet.url, 'tools/call', { name: 'whoami', arguments: { id: '1' } });
      expect(failed.body.error?.data).toEqual({ service: 'restarting' });
      ready = true;
      await eventually('the service up again by itself', async () => (await api(quiet.url, 'GET', '/services/restarting')).body.status === 'up', 10_000);
      const call = await rpc(quiet.url, 'tools/call', { name: 'whoami', arguments: { id: '2' } });
      expect(call.body.result.structuredContent).toMatchObject({ from: 'restarting', id: '2' });
    } finally {
      await quiet.stop();
      await service.close();
    }
  });
});
