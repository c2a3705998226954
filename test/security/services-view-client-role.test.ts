/**
 * docs/security.md, finding 4, and the low on secrets in a registered URL's query string:
 * a token without the admin role sees in `/services` only the services and items its
 * allow-list lets it use (as `tools/list` shows them) and nothing of how the gateway
 * reaches them: no URL, credential, last error or clashes; a service it may not use
 * answers like one that does not exist. Admins see everything, with secret-looking query
 * values of a URL redacted, in `/services` and in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api } from '../helpers/mesh.js';
import { type AuthMesh, startAuthMesh, TOKENS } from './auth-fixture.js';

let mesh: AuthMesh;
let hidden: ListingBackend;
const QUERY_SECRET = 'hunter2-query-secret';

beforeAll(async () => {
  [mesh, hidden] = await Promise.all([startAuthMesh(), startListingBackend({ tools: [{ name: 'payroll', inputSchema: { type: 'object' } }] })]);
  const registered = await api(
    mesh.gateway.url,
    'POST',
    '/register',
    { name: 'hidden', url: `${hidden.url}/mcp?api_key=${QUERY_SECRET}&region=eu`, credential: { none: true } },
    TOKENS.ops,
  );
  expect(registered.status).toBe(201);
});
afterAll(async () => {
  await mesh?.close();
  await hidden?.close();
});

const ADMIN_ONLY_FIELDS = ['url', 'credential', 'lastError', 'clashes', 'rejected', 'source', 'circuit'];

describe('finding 4: /services for client tokens', () => {
  it('a token with an allow-list sees only the service and tools it may use, without how they are reached', async () => {
    const { status, body } = await api(mesh.gateway.url, 'GET', '/services', undefined, TOKENS.agent);
    expect(status).toBe(200);
    expect(body.services).toEqual([{ name: 'recorder', status: 'up', tools: [{ name: 'lookup' }], prompts: [], resources: [], resourceTemplates: [] }]);
  });

  it('a service it may not use is 404 like one that does not exist', async () => {
    const hiddenAnswer = await api(mesh.gateway.url, 'GET', '/services/hidden', undefined, TOKENS.agent);
    const missing = await api(mesh.gateway.url, 'GET', '/services/nothing-here', undefined, TOKENS.agent);
    expect(hiddenAnswer.status).toBe(404);
    expect(hiddenAnswer.body.message).toBe(missing.body.message.replace('nothing-here', 'hidden'));
  });

  it('a client token without an allow-list sees every service, still without URL or credential', async () => {
    const { body } = await api(mesh.gateway.url, 'GET', '/services', undefined, TOKENS.alice);
    expect(body.services.map((service: { name: string }) => service.name)).toEqual(['recorder', 'hidden']);
    for (const service of body.services) for (const field of ADMIN_ONLY_FIELDS) expect(service).not.toHaveProperty(field);
  });

  it('an admin sees everything, with the query secret redacted in /services and the log', async () => {
    const { body } = await api(mesh.gateway.url, 'GET', '/services/hidden', undefined, TOKENS.ops);
    expect(body.url).toBe(`${hidden.url}/mcp?api_key=[redacted]&region=eu`);
    expect(body.credential).toEqual({ type: 'none' });
    expect(JSON.stringify(body)).not.toContain(QUERY_SECRET);
    expect(mesh.gateway.output()).toContain('registered service');
    expect(mesh.gateway.output()).not.toContain(QUERY_SECRET);
  });
});
