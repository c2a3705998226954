/**
 * The seed's fault tolerance: a service that is down when the gateway starts does not stop
 * it; its tools are listed from fallback definitions, calls fail fast naming the service,
 * and once the service starts, calls succeed without restarting the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, rpc, SHOPPING_ENTRY, startGateway, USER_ENTRY, waitUntilUp } from '../helpers/mesh.js';
import { freePort, type StartedProcess, startProcess, stopAll } from '../helpers/process.js';

let gateway: StartedProcess;
let userPort: number;

beforeAll(async () => {
  const shopping = await startProcess({ entry: SHOPPING_ENTRY, name: 'shopping-service' });
  userPort = await freePort(); // nothing listens here yet
  gateway = await startGateway({ SHOPPING_SERVICE_URL: `${shopping.url}/mcp`, USER_SERVICE_URL: `http://127.0.0.1:${userPort}/mcp` });
  await waitUntilUp(gateway.url, ['shopping-service']);
});
afterAll(stopAll);

describe('a service down at gateway start-up', () => {
  it('leaves the gateway serving, with the service reported down and why', async () => {
    const health = await (await fetch(`${gateway.url}/health`)).json();
    expect(health.status).toBe('ok');
    expect(health.services['user-service'].status).toBe('down');
    const services = (await (await fetch(`${gateway.url}/services`, { headers: { authorization: 'Bearer mcp-token-123' } })).json()).services;
    const user = services.find((service: { name: string }) => service.name === 'user-service');
    expect(user).toMatchObject({ status: 'down', toolsFrom: 'fallback', lastSeenAt: null });
    expect(user.lastError).toMatch(/ECONNREFUSED/);
  });

  it('still lists its tools from the fallback definitions', async () => {
    const { body } = await rpc(gateway.url, 'tools/list');
    const user = body.result.tools.find((tool: { name: string }) => tool.name === 'getUserById');
    expect(user).toMatchObject({ name: 'getUserById', inputSchema: { type: 'object', required: ['id'] } });
  });

  it('fails calls to it within a second, with an error naming the service', async () => {
    const started = Date.now();
    const { status, body } = await rpc(gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: '456' } });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(status).toBe(200);
    expect(body.error).toMatchObject({ code: -32010, data: { service: 'user-service' } });
    expect(body.error.message).toMatch(/Service "user-service" is (down|connecting)/);
  });

  it('keeps serving the other service meanwhile', async () => {
    const { body } = await rpc(gateway.url, 'tools/call', { name: 'getProductById', arguments: { id: '123' } });
    expect(body.result.structuredContent.id).toBe('123');
  });

  it('serves calls once the service starts, replacing fallback with live definitions, without a gateway restart', async () => {
    await startProcess({ entry: USER_ENTRY, name: 'user-service', env: { PORT: String(userPort) } });
    const result = await eventually('getUserById to succeed', async () => {
      const { body } = await rpc(gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: '456' } });
      return body.result?.structuredContent ? body.result : undefined;
    });
    expect(result.structuredContent).toMatchObject({ id: '456' });
    const { body } = await rpc(gateway.url, 'tools/list');
    const user = body.result.tools.find((tool: { name: string }) => tool.name === 'getUserById');
    expect(user.outputSchema).toBeDefined(); // only the live definition has one
  });
});
