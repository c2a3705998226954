/**
 * docs/security.md, low: text the backend controls (an HTTP reason phrase, an excerpt of
 * an invalid body, a content type) stays in the gateway's log and never reaches the
 * client's error message, on any path: a sessionless call, and what /services shows later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAK, type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, rpc, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive } from './harness.js';

const absent = 'http://127.0.0.1:9/mcp';
const tool = (name: string) => ({ name, inputSchema: { type: 'object' } });
let backend: ListingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  backend = await startListingBackend({ tools: ['fail-reason', 'fail-json', 'fail-type', 'fine'].map(tool) });
  gateway = await startGateway({ SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent, MESHGATE_BREAKER_THRESHOLD: '100' });
  expect((await api(gateway.url, 'POST', '/register', { name: 'leaky', url: backend.url })).status).toBe(201);
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

describe("the backend's own text is logged, not told to clients", () => {
  it.each([
    ['fail-reason', /HTTP 500/],
    ['fail-json', /not valid JSON/],
    ['fail-type', /unexpected content type/],
  ])('%s: the error names the service and the kind of failure, without the text', async (name, kind) => {
    const { body } = await rpc(gateway.url, 'tools/call', { name, arguments: {} });
    expect(body.error.message).toMatch(/Service "leaky"/);
    expect(body.error.message).toMatch(kind);
    expect(JSON.stringify(body)).not.toContain(LEAK);
  });

  it('the log keeps the text for the operator, /services does not show it', async () => {
    expect(gateway.output()).toContain(LEAK);
    const { body } = await api(gateway.url, 'GET', '/services/leaky');
    expect(JSON.stringify(body)).not.toContain(LEAK);
    expect((await rpc(gateway.url, 'tools/call', { name: 'fine', arguments: {} })).body.result.content[0].text).toBe('called fine');
    await expectAlive(gateway);
  });
});
