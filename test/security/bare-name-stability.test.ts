/**
 * docs/security.md, low: a bare tool name does not move to another service behind the
 * clients' backs. `first` holds the bare name `lookup`; `second` also lists it and gets
 * `second__lookup`. When `first` comes back with fewer tools, and when it is moved to
 * another URL (PUT), `second` does not take the bare name: a call to `lookup` never
 * reaches a service the client did not mean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, eventually, rpc, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const absent = 'http://127.0.0.1:9/mcp';
const tool = (name: string) => ({ name, inputSchema: { type: 'object' } });
let first: ListingBackend;
let moved: ListingBackend;
let second: ListingBackend;
let gateway: StartedProcess;

const owners = async () => {
  const services = (await api(gateway.url, 'GET', '/services')).body.services as Array<{ name: string; tools: Array<{ name: string }> }>;
  return Object.fromEntries(services.filter((s) => ['first', 'second'].includes(s.name)).map((s) => [s.name, s.tools.map((t) => t.name)]));
};

beforeAll(async () => {
  [first, moved, second] = await Promise.all([
    startListingBackend({ tools: [tool('lookup'), tool('other')] }),
    startListingBackend({ tools: [tool('other')] }),
    startListingBackend({ tools: [tool('lookup')] }),
  ]);
  gateway = await startGateway({ SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent });
  expect((await api(gateway.url, 'POST', '/register', { name: 'first', url: first.url })).status).toBe(201);
  expect((await api(gateway.url, 'POST', '/register', { name: 'second', url: second.url })).status).toBe(201);
});
afterAll(async () => {
  await stopAll();
  await Promise.all([first?.close(), moved?.close(), second?.close()]);
});

describe('the bare-name alias is stable', () => {
  it('starts with first holding the bare name', async () => {
    expect(await owners()).toEqual({ first: ['lookup', 'other'], second: ['second__lookup'] });
  });

  it('first comes back with fewer tools: lookup is unknown, not re-routed to second', async () => {
    first.setListings({ tools: [tool('other')] });
    await eventually('first re-listed', async () => (await owners())['first']?.length === 1);
    expect(await owners()).toEqual({ first: ['other'], second: ['second__lookup'] });
    const call = await rpc(gateway.url, 'tools/call', { name: 'lookup', arguments: {} });
    expect(call.body.error?.code).toBe(-32602);
    expect(second.methods.includes('tools/call')).toBe(false);
    first.setListings({ tools: [tool('lookup'), tool('other')] });
    await eventually('first has lookup again', async () => (await owners())['first']?.includes('lookup'));
    expect((await owners())['second']).toEqual(['second__lookup']);
  });

  it('first moved to a URL that lists fewer tools (PUT) keeps the name reserved', async () => {
    expect((await api(gateway.url, 'PUT', '/services/first', { url: moved.url })).status).toBe(200);
    expect(await owners()).toEqual({ first: ['other'], second: ['second__lookup'] });
    expect((await rpc(gateway.url, 'tools/call', { name: 'lookup', arguments: {} })).body.error?.code).toBe(-32602);
    expect(second.methods.includes('tools/call')).toBe(false);
  });
});
