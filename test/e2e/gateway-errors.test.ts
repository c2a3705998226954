/**
 * Bad input through the gateway gets a clear error: the right HTTP status, the right
 * JSON-RPC code and a message that says what to fix; nothing crashes, nothing is lost.
 */
import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, FIXTURE_CREDENTIAL, type Mesh, rpc, startFixtureService, startMesh, TOKEN } from '../helpers/mesh.js';
import { freePort, stopAll } from '../helpers/process.js';

let mesh: Mesh;
let spare: RunningService;

beforeAll(async () => {
  mesh = await startMesh();
  spare = await startFixtureService('spare-service', ['getSpare']);
});
afterAll(async () => {
  await spare?.close();
  await stopAll();
});

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${mesh.gateway.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body,
  });

describe('tool call errors', () => {
  it("an unknown id is the service's isError result, forwarded unchanged", async () => {
    const { body } = await rpc(mesh.gateway.url, 'tools/call', { name: 'getProductById', arguments: { id: '999999' } });
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0].text).toMatch(/not found/);
  });

  it("a malformed id is the service's invalid params error, forwarded unchanged", async () => {
    const { body } = await rpc(mesh.gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: 'abc' } });
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toMatch(/id/);
  });

  it('an unknown tool is invalid params naming it', async () => {
    const { body } = await rpc(mesh.gateway.url, 'tools/call', { name: 'getNothing', arguments: {} });
    expect(body.error).toMatchObject({ code: -32602, message: expect.stringContaining('"getNothing"') });
  });

  it('a missing or non-string tool name is invalid params', async () => {
    for (const params of [{}, { name: 42 }, { name: '' }]) {
      const { body } = await rpc(mesh.gateway.url, 'tools/call', params);
      expect(body.error.code, JSON.stringify(params)).toBe(-32602);
    }
  });

  it('an unknown method is -32601, ping is answered by the gateway', async () => {
    expect((await rpc(mesh.gateway.url, 'tools/destroy')).body.error.code).toBe(-32601);
    expect((await rpc(mesh.gateway.url, 'ping')).body).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });
});

describe('JSON-RPC framing on /mcp', () => {
  it('invalid JSON is 400 with -32700 and id null', async () => {
    const response = await post('{x');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ id: null, error: { code: -32700 } });
  });

  it('a batch is 400 with -32600', async () => {
    const response = await post(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]));
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe(-32600);
  });

  it('a text/plain body is 415 and Accept: text/html is 406', async () => {
    expect((await post('{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), { accept: 'text/html' })).status).toBe(406);
  });

  it('application/json-seq and application/jsonl are not JSON: 415 (only application/json and +json types are)', async () => {
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    for (const type of ['application/json-seq', 'application/jsonl']) expect((await post(ping, { 'content-type': type })).status, type).toBe(415);
    expect((await post(ping, { 'content-type': 'application/vnd.meshgate+json' })).status).toBe(200);
  });

  it('a notification without a session is accepted with 202 and no body', async () => {
    const response = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
  });
});

describe('registration errors', () => {
  it.each([
    ['an empty body', ''],
    ['invalid JSON', '{"name":'],
    ['a missing url', { name: 'ok-name' }],
    ['an invalid name', { name: 'Bad_Name', url: 'http://127.0.0.1:1' }],
    ['a name with a double underscore', { name: 'a__b', url: 'http://127.0.0.1:1' }],
    ['a file: URL', { name: 'files', url: 'file:///etc/passwd' }],
    ['a URL with user:password', { name: 'creds', url: 'http://user:pw@127.0.0.1:1/mcp' }],
    ['an unknown field', { name: 'extra', url: 'http://127.0.0.1:1', admin: true }],
  ])('%s is 400 with a reason', async (_case, body) => {
    const response = await api(mesh.gateway.url, 'POST', '/register', body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/^invalid_(body|url)$/);
    expect(response.body.message.length).toBeGreaterThan(10);
  });

  it('an unreachable service is 502 naming the cause, and leaves nothing registered', async () => {
    const port = await freePort();
    const response = await api(mesh.gateway.url, 'POST', '/register', { name: 'ghost', url: `http://127.0.0.1:${port}` });
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({ error: 'upstream_unreachable', service: 'ghost' });
    expect(response.body.message).toMatch(/ECONNREFUSED/);
    expect((await api(mesh.gateway.url, 'GET', '/services/ghost')).status).toBe(404);
  });

  it('a name already taken is 409, for configured and registered services alike', async () => {
    expect((await api(mesh.gateway.url, 'POST', '/register', { name: 'spare-service', url: spare.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    for (const name of ['spare-service', 'shopping-service']) {
      const response = await api(mesh.gateway.url, 'POST', '/register', { name, url: spare.url, credential: FIXTURE_CREDENTIAL });
      expect(response.status).toBe(409);
      expect(response.body.error).toBe('service_exists');
    }
  });

  it('DELETE /services/{name} removes a registered service and its tools; a configured one is refused', async () => {
    expect((await api(mesh.gateway.url, 'DELETE', '/services/spare-service')).status).toBe(204);
    const { body } = await rpc(mesh.gateway.url, 'tools/list');
    expect(body.result.tools.map((tool: { name: string }) => tool.name)).not.toContain('getSpare');
    expect((await api(mesh.gateway.url, 'DELETE', '/services/spare-service')).status).toBe(404);
    expect((await api(mesh.gateway.url, 'DELETE', '/services/shopping-service')).status).toBe(400);
  });

  it('the gateway still answers /health after all of the above', async () => {
    expect((await fetch(`${mesh.gateway.url}/health`)).status).toBe(200);
  });
});
