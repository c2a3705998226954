/**
 * Spec-conformant clients through the gateway: the official SDK v2 client and the widely
 * deployed SDK v1 client both initialize a session, list the federated tools and call them.
 */

import type { RunningService } from '@meshgate/service-kit';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, FIXTURE_CREDENTIAL, type Mesh, startFixtureService, startMesh, TOKEN } from '../helpers/mesh.js';
import { stopAll } from '../helpers/process.js';

let mesh: Mesh;
const headers = { Authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  mesh = await startMesh();
});
afterAll(stopAll);

describe('SDK v2 client through the gateway', () => {
  it('initializes a session, lists both tools and calls each', async () => {
    const client = new Client({ name: 'e2e-v2', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${mesh.gateway.url}/mcp`), { requestInit: { headers } }));
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'meshgate' });
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['getProductById', 'getUserById']);
      const product = await client.callTool({ name: 'getProductById', arguments: { id: '123' } });
      expect(product.structuredContent).toMatchObject({ id: '123' });
      const user = await client.callTool({ name: 'getUserById', arguments: { id: '456' } });
      expect(user.structuredContent).toMatchObject({ id: '456' });
    } finally {
      await client.close();
    }
  });
});

describe('SDK v1 client through the gateway', () => {
  it('initializes a session, lists both tools and calls each', async () => {
    const client = new ClientV1({ name: 'e2e-v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(`${mesh.gateway.url}/mcp`), { requestInit: { headers } }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['getProductById', 'getUserById']);
      const product = await client.callTool({ name: 'getProductById', arguments: { id: '123' } });
      expect(product.structuredContent).toMatchObject({ id: '123' });
      const missing = await client.callTool({ name: 'getUserById', arguments: { id: '999999' } });
      expect(missing.isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('a connected client hears tools/list_changed when a service registers, and can call the new tool', async () => {
    const client = new ClientV1({ name: 'e2e-v1-listener', version: '1.0.0' });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes += 1;
    });
    await client.connect(new TransportV1(new URL(`${mesh.gateway.url}/mcp`), { requestInit: { headers } }));
    let fixture: RunningService | undefined;
    try {
      await client.listTools(); // the GET notification stream is open once the session is in use
      await new Promise((wake) => setTimeout(wake, 200));
      fixture = await startFixtureService('inventory-service', ['getStockLevel']);
      expect((await api(mesh.gateway.url, 'POST', '/register', { name: 'inventory-service', url: fixture.url, credential: FIXTURE_CREDENTIAL })).status).toBe(
        201,
      );
      await eventually('list_changed notification', async () => changes > 0);
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('getStockLevel');
      const result = await client.callTool({ name: 'getStockLevel', arguments: { id: 'a1' } });
      expect(result.structuredContent).toEqual({ from: 'inventory-service', tool: 'getStockLevel', id: 'a1' });
    } finally {
      await client.close();
      await fixture?.close();
    }
  });
});
