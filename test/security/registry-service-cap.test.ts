/**
 * docs/security.md, low: the number of registered services is capped
 * (MESHGATE_MAX_SERVICES); one more is 409 too_many_services before the gateway connects
 * anywhere, and deregistering one makes room again. Configured services do not count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive } from './harness.js';

const absent = 'http://127.0.0.1:9/mcp';
let backend: ListingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  backend = await startListingBackend({ tools: [{ name: 't', inputSchema: { type: 'object' } }] });
  gateway = await startGateway({ SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent, MESHGATE_MAX_SERVICES: '2' });
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

describe('a cap on registered services', () => {
  it('the third registration is 409 too_many_services and nothing connects for it', async () => {
    for (const name of ['one', 'two']) expect((await api(gateway.url, 'POST', '/register', { name, url: backend.url })).status).toBe(201);
    const initializes = () => backend.methods.filter((method) => method === 'initialize').length;
    const before = initializes();
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'three', url: backend.url });
    expect(status).toBe(409);
    expect(body.error).toBe('too_many_services');
    expect(body.message).toMatch(/MESHGATE_MAX_SERVICES/);
    expect(initializes()).toBe(before);
    // The two configured (seed) services are there too, uncounted.
    expect((await api(gateway.url, 'GET', '/services')).body.services).toHaveLength(4);
  });

  it('deregistering one makes room again', async () => {
    expect((await api(gateway.url, 'DELETE', '/services/one')).status).toBe(204);
    expect((await api(gateway.url, 'POST', '/register', { name: 'three', url: backend.url })).status).toBe(201);
    await expectAlive(gateway);
  });
});
