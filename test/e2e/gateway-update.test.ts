/**
 * Registered services change without a gateway restart: a new url or credential takes
 * effect at once, a bad update changes nothing, and each service gets its own credential.
 */
import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, FIXTURE_CREDENTIAL, rpc, startFixtureService, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

let gateway: StartedProcess;
let first: RunningService;
let second: RunningService;
let locked: RunningService;

beforeAll(async () => {
  [first, second, locked] = await Promise.all([
    startFixtureService('first', ['lookup']),
    startFixtureService('second', ['lookup']),
    startFixtureService('locked', ['vault'], 'locked-service-token'),
  ]);
  gateway = await startGateway({ USER_SERVICE_URL: 'http://127.0.0.1:9/mcp', SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp' });
});
afterAll(async () => {
  await Promise.all([first, second, locked].map((service) => service?.close()));
  await stopAll();
});

const lookup = async () => (await rpc(gateway.url, 'tools/call', { name: 'lookup', arguments: { id: '1' } })).body;

describe('PUT /services/{name}', () => {
  it('switches a service to a new url at once', async () => {
    expect((await api(gateway.url, 'POST', '/register', { name: 'movable', url: first.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    expect((await lookup()).result.structuredContent.from).toBe('first');
    const updated = await api(gateway.url, 'PUT', '/services/movable', { url: second.url });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'movable', url: `${second.url}/mcp`, status: 'up', source: 'registered' });
    expect(updated.body.updatedAt > updated.body.createdAt).toBe(true);
    expect((await lookup()).result.structuredContent.from).toBe('second');
  });

  it('leaves the service as it was when the new url cannot be reached (502)', async () => {
    const failed = await api(gateway.url, 'PUT', '/services/movable', { url: 'http://127.0.0.1:9' });
    expect(failed.status).toBe(502);
    expect(failed.body.error).toBe('upstream_unreachable');
    expect((await api(gateway.url, 'GET', '/services/movable')).body.url).toBe(`${second.url}/mcp`);
    expect((await lookup()).result.structuredContent.from).toBe('second');
  });

  it('refuses an empty update, an unknown service and a configured service', async () => {
    expect((await api(gateway.url, 'PUT', '/services/movable', {})).status).toBe(400);
    expect((await api(gateway.url, 'PUT', '/services/nobody', { url: first.url })).status).toBe(404);
    expect((await api(gateway.url, 'PUT', '/services/shopping-service', { url: first.url })).status).toBe(400);
  });
});

describe('per-service upstream credentials', () => {
  it("a service with its own token cannot be registered with the gateway's token", async () => {
    const response = await api(gateway.url, 'POST', '/register', { name: 'locked', url: locked.url });
    expect(response.status).toBe(502);
    expect(response.body.message).toMatch(/locked/);
  });

  it('registers with its own credential, which is never shown back', async () => {
    const response = await api(gateway.url, 'POST', '/register', {
      name: 'locked',
      url: locked.url,
      credential: { bearer: 'locked-service-token' },
    });
    expect(response.status).toBe(201);
    expect(response.body.credential).toEqual({ type: 'bearer', token: '[redacted]' });
    expect(JSON.stringify((await api(gateway.url, 'GET', '/services')).body)).not.toContain('locked-service-token');
    const call = await rpc(gateway.url, 'tools/call', { name: 'vault', arguments: { id: 'x' } });
    expect(call.body.result.structuredContent.from).toBe('locked');
  });

  it('a credential can be changed in place', async () => {
    const wrong = await api(gateway.url, 'PUT', '/services/locked', { credential: { bearer: 'not-it' } });
    expect(wrong.status).toBe(502);
    const right = await api(gateway.url, 'PUT', '/services/locked', { credential: { bearer: 'locked-service-token' } });
    expect(right.status).toBe(200);
  });

  it('the gateway log never contains the service secret', () => {
    expect(gateway.output()).not.toContain('locked-service-token');
  });
});
