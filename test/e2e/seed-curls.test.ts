/**
 * Every curl command of the seed document (the original user request; the README shows them), run against real
 * processes exactly as written: same paths, headers and bodies, no initialize, no session.
 */
import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, FIXTURE_CREDENTIAL, type Mesh, rpc, startFixtureService, startMesh } from '../helpers/mesh.js';
import { stopAll } from '../helpers/process.js';

let mesh: Mesh;
let custom: RunningService;

beforeAll(async () => {
  mesh = await startMesh();
  custom = await startFixtureService('custom-service', ['getOrderById']);
});

afterAll(async () => {
  await custom?.close();
  await stopAll();
});

describe('seed: verify service status', () => {
  it('GET /health answers 200 on all three services', async () => {
    for (const [service, url] of [
      ['shopping-service', mesh.shopping.url],
      ['user-service', mesh.user.url],
      ['mcp-gateway', mesh.gateway.url],
    ] as const) {
      const response = await fetch(`${url}/health`);
      expect(response.status, service).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'ok', service });
    }
  });

  it('gateway /health reports each federated service as up', async () => {
    const body = await (await fetch(`${mesh.gateway.url}/health`)).json();
    expect(body.services).toEqual({
      'shopping-service': { status: 'up', since: expect.any(String), tools: 1 },
      'user-service': { status: 'up', since: expect.any(String), tools: 1 },
    });
  });
});

describe('seed: bearer token authentication', () => {
  it('tools/list without a token is 401 with a Bearer challenge', async () => {
    const { status, headers, body } = await rpc(mesh.gateway.url, 'tools/list', undefined, { token: null });
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(body.error.message).toMatch(/Authorization/);
  });

  it('a wrong token is 401 too', async () => {
    const { status, headers } = await rpc(mesh.gateway.url, 'tools/list', undefined, { token: 'mcp-token-124' });
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('seed: tool discovery', () => {
  it("tools/list returns both services' tools under their own names, with schemas untouched", async () => {
    const { status, headers, body } = await rpc(mesh.gateway.url, 'tools/list');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    const names = body.result.tools.map((tool: { name: string }) => tool.name);
    expect(names).toEqual(['getProductById', 'getUserById']);

    const direct = await rpc(mesh.shopping.url, 'tools/list');
    expect(body.result.tools[0]).toEqual(direct.body.result.tools[0]);
  });
});

describe('seed: federation tool calls', () => {
  it('getProductById {"id":"123"} is routed to shopping-service and forwarded unchanged', async () => {
    const params = { name: 'getProductById', arguments: { id: '123' } };
    const { status, body } = await rpc(mesh.gateway.url, 'tools/call', params);
    expect(status).toBe(200);
    expect(body.id).toBe(1);
    expect(body.result.structuredContent).toMatchObject({ id: '123', name: expect.any(String), price: expect.any(Number) });
    expect(JSON.parse(body.result.content[0].text)).toEqual(body.result.structuredContent);
    const direct = await rpc(mesh.shopping.url, 'tools/call', params);
    expect(body.result).toEqual(direct.body.result);
  });

  it('getUserById {"id":"456"} is routed to user-service', async () => {
    const { body } = await rpc(mesh.gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: '456' } });
    expect(body.result.structuredContent).toMatchObject({ id: '456', name: expect.any(String), email: expect.stringContaining('@') });
    expect(body.result.isError).toBeUndefined();
  });
});

describe('seed: service registration', () => {
  it("POST /register {name,url} connects to the base URL's /mcp, discovers its tools and answers 201", async () => {
    const { status, body } = await api(mesh.gateway.url, 'POST', '/register', { name: 'custom-service', url: custom.url, credential: FIXTURE_CREDENTIAL });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      name: 'custom-service',
      url: `${custom.url}/mcp`,
      source: 'registered',
      status: 'up',
      tools: [{ name: 'getOrderById', upstreamName: 'getOrderById' }],
    });
    const listed = await rpc(mesh.gateway.url, 'tools/list');
    expect(listed.body.result.tools.map((tool: { name: string }) => tool.name)).toContain('getOrderById');
    const called = await rpc(mesh.gateway.url, 'tools/call', { name: 'getOrderById', arguments: { id: '7' } });
    expect(called.body.result.structuredContent).toEqual({ from: 'custom-service', tool: 'getOrderById', id: '7' });
  });

  it('POST /services lists every service with url, status, tools, last error and last-seen time', async () => {
    const { status, body } = await api(mesh.gateway.url, 'POST', '/services');
    expect(status).toBe(200);
    expect(body.services.map((service: { name: string }) => service.name)).toEqual(['shopping-service', 'user-service', 'custom-service']);
    for (const service of body.services) {
      expect(service).toMatchObject({ status: 'up', lastError: null, lastSeenAt: expect.any(String), url: expect.stringMatching(/\/mcp$/) });
    }
    expect(body.services[0]).toMatchObject({ source: 'config', tools: [{ name: 'getProductById', upstreamName: 'getProductById' }] });
  });

  it('GET /services answers the same list, and both need the token', async () => {
    const listed = await api(mesh.gateway.url, 'GET', '/services');
    expect(listed.body.services).toHaveLength(3);
    for (const method of ['GET', 'POST']) {
      const denied = await api(mesh.gateway.url, method, '/services', undefined, null);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    expect((await api(mesh.gateway.url, 'POST', '/register', { name: 'x', url: custom.url }, null)).status).toBe(401);
  });

  it('service listings never show upstream secrets', async () => {
    const { body } = await api(mesh.gateway.url, 'GET', '/services');
    expect(JSON.stringify(body)).not.toContain('mcp-token-123');
  });
});
