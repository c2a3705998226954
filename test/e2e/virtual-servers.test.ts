/**
 * Virtual servers (docs/tool-surfaces.md) end to end: real seed services and a listing
 * backend with annotated tools behind a real gateway process, SDK v2 and v1 clients on
 * `/servers/{name}/mcp`, the admin API's lifecycle across a restart on the same database,
 * and search mode.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, eventually, SHOPPING_ENTRY, startGateway, TOKEN, tempDbPath, USER_ENTRY, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, startProcess } from '../helpers/process.js';

const LIMITED = 'limited-token-5b1c';
const ADMIN = 'admin-token-9f2e';
const crmTools = [
  {
    name: 'findCustomerByEmail',
    description: 'Find a customer by email address',
    inputSchema: { type: 'object', properties: { email: { type: 'string' } } },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'deleteCustomer',
    description: 'Delete a customer account for good',
    inputSchema: { type: 'object', properties: { customerId: { type: 'string' } } },
    annotations: { destructiveHint: true },
  },
  {
    name: 'refundOrder',
    description: 'Refund an order to the original payment method',
    inputSchema: { type: 'object', properties: { orderId: { type: 'string' } } },
  },
];

let shopping: StartedProcess;
let user: StartedProcess;
let crm: ListingBackend;
let gateway: StartedProcess;
let configPath: string;
const dbPath = tempDbPath();

function gatewayEnv(): Record<string, string> {
  return { MESHGATE_CONFIG: configPath, MESHGATE_DB_PATH: dbPath, MESHGATE_AUDIT: 'true' };
}

async function mcp(path: string, method: string, params: unknown, token = TOKEN, session?: string) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      ...(session === undefined ? {} : { 'mcp-session-id': session }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

async function v2(path: string, token = TOKEN, version?: string): Promise<Client> {
  const client = new Client({ name: 'vs-v2', version: '1.0.0' }, version === undefined ? {} : ({ versionNegotiation: { mode: { pin: version } } } as never));
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

const names = (tools: { name: string }[]) => tools.map((tool) => tool.name).sort();

beforeAll(async () => {
  [shopping, user, crm] = await Promise.all([
    startProcess({ entry: SHOPPING_ENTRY, name: 'shopping-service' }),
    startProcess({ entry: USER_ENTRY, name: 'user-service' }),
    startListingBackend({ tools: crmTools }),
  ]);
  configPath = join(mkdtempSync(join(tmpdir(), 'meshgate-vs-')), 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      services: [
        { name: 'shopping-service', url: `${shopping.url}/mcp`, credential: { bearer: TOKEN } },
        { name: 'user-service', url: `${user.url}/mcp`, credential: { bearer: TOKEN } },
        { name: 'crm', url: `${crm.url}/mcp`, credential: { none: true } },
      ],
      virtualServers: [
        { name: 'support', tools: ['getUserById', 'crm__find*'], description: 'Customer support tools' },
        { name: 'danger', tools: ['@destructiveHint'] },
        { name: 'finder', tools: ['*'], mode: 'search' },
      ],
      tokens: [
        { name: 'seed', token: TOKEN, roles: ['admin', 'client'] },
        { name: 'admin', token: ADMIN, roles: ['admin'] },
        { name: 'limited', token: LIMITED, roles: ['client'], tools: ['getUserById', 'deleteCustomer'] },
      ],
    }),
  );
  gateway = await startGateway(gatewayEnv());
  await waitUntilUp(gateway.url, ['shopping-service', 'user-service', 'crm']);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([shopping?.stop(), user?.stop(), crm?.close()]);
});

describe('a virtual server', () => {
  it('lists only its tools to an SDK v2 client, and calls them', async () => {
    const client = await v2('/servers/support/mcp');
    try {
      expect(client.getInstructions()).toBe('Customer support tools');
      expect(names((await client.listTools()).tools)).toEqual(['findCustomerByEmail', 'getUserById']);
      const result = await client.callTool({ name: 'getUserById', arguments: { id: '1' } });
      expect(result.isError).not.toBe(true);
      expect(JSON.stringify(result.structuredContent)).toContain('"id"');
      // A tool of the federation outside the view is unknown here, not merely refused.
      await expect(client.callTool({ name: 'getProductById', arguments: { id: '1' } })).rejects.toThrow(/Unknown tool "getProductById"/);
    } finally {
      await client.close();
    }
  });

  it('selects by annotation: @destructiveHint', async () => {
    const listed = await mcp('/servers/danger/mcp', 'tools/list', {});
    expect(names(listed.body.result.tools)).toEqual(['deleteCustomer']);
  });

  it('serves an SDK v1 client the same view', async () => {
    const client = new ClientV1({ name: 'vs-v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(`${gateway.url}/servers/support/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    try {
      expect(names((await client.listTools()).tools)).toEqual(['findCustomerByEmail', 'getUserById']);
      const result = await client.callTool({ name: 'findCustomerByEmail', arguments: { email: 'a@example.com' } });
      expect(result.isError).not.toBe(true);
    } finally {
      await client.close();
    }
  });

  it('serves the stateless 2026-07-28 revision on its endpoint with its view', async () => {
    const client = await v2('/servers/support/mcp', TOKEN, '2026-07-28');
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(names((await client.listTools()).tools)).toEqual(['findCustomerByEmail', 'getUserById']);
    } finally {
      await client.close();
    }
  });

  it('intersects the view with the token allow-list', async () => {
    const listed = await mcp('/servers/support/mcp', 'tools/list', {}, LIMITED);
    expect(names(listed.body.result.tools)).toEqual(['getUserById']);
    const refused = await mcp('/servers/support/mcp', 'tools/call', { name: 'findCustomerByEmail', arguments: {} }, LIMITED);
    expect(refused.body.error.message).toMatch(/Unknown tool "findCustomerByEmail"/);
  });

  it('keeps its sessions to itself: not valid on /mcp or on another virtual server', async () => {
    const opened = await mcp('/servers/support/mcp', 'initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    });
    const session = opened.headers.get('mcp-session-id') ?? '';
    expect(session).not.toBe('');
    expect((await mcp('/servers/support/mcp', 'tools/list', {}, TOKEN, session)).status).toBe(200);
    for (const path of ['/mcp', '/servers/danger/mcp']) {
      const elsewhere = await mcp(path, 'tools/list', {}, TOKEN, session);
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.body.error.message).toMatch(/Session not found/);
    }
  });

  it('answers an unknown name with 404 and says where the list is', async () => {
    const unknown = await mcp('/servers/nope/mcp', 'tools/list', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('No virtual server named "nope"; GET /virtual-servers lists them');
    expect((await fetch(`${gateway.url}/.well-known/oauth-protected-resource/servers/nope/mcp`)).status).toBe(404);
  });

  it('has protected resource metadata of its own, named in its 401 challenge', async () => {
    const metadata = await (await fetch(`${gateway.url}/.well-known/oauth-protected-resource/servers/support/mcp`)).json();
    expect(metadata.resource).toBe(`${gateway.url}/servers/support/mcp`);
    const unauthorized = await fetch(`${gateway.url}/servers/support/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toContain(
      `resource_metadata="${gateway.url}/.well-known/oauth-protected-resource/servers/support/mcp"`,
    );
  });
});

describe('search mode', () => {
  it('lists search_tools and call_tool in place of the catalog; finds and calls', async () => {
    const client = await v2('/servers/finder/mcp');
    try {
      expect(names((await client.listTools()).tools)).toEqual(['call_tool', 'search_tools']);
      const found = await client.callTool({ name: 'search_tools', arguments: { query: 'refund an order', limit: 3 } });
      const tools = (found.structuredContent as { tools: { name: string; inputSchema: unknown }[] }).tools;
      expect(tools[0]?.name).toBe('refundOrder');
      expect(tools[0]?.inputSchema).toEqual(crmTools[2]?.inputSchema);
      const called = await client.callTool({ name: 'call_tool', arguments: { name: 'getUserById', arguments: { id: '1' } } });
      expect(called.isError).not.toBe(true);
      expect(JSON.stringify(called.structuredContent)).toContain('"id"');
      const bad = await client.callTool({ name: 'search_tools', arguments: { query: '' } }).catch((error: Error) => error);
      expect(String(bad)).toMatch(/search_tools needs "query"/);
    } finally {
      await client.close();
    }
  });

  it('scopes results and calls to the token allow-list', async () => {
    const found = await mcp(
      '/servers/finder/mcp',
      'tools/call',
      { name: 'search_tools', arguments: { query: 'customer user order product', limit: 20 } },
      LIMITED,
    );
    expect(names(found.body.result.structuredContent.tools)).toEqual(['deleteCustomer', 'getUserById']);
    const refused = await mcp('/servers/finder/mcp', 'tools/call', { name: 'call_tool', arguments: { name: 'refundOrder', arguments: {} } }, LIMITED);
    expect(refused.body.error.message).toMatch(/Unknown tool "refundOrder"/);
  });

  it('audits call_tool as the tools/call of the tool it names', async () => {
    await mcp('/servers/finder/mcp', 'tools/call', { name: 'call_tool', arguments: { name: 'getProductById', arguments: { id: '1' } } });
    // The audit log writes in batches: the entry lands within moments.
    await eventually('the audit entry of the call', async () => {
      const audit = await api(gateway.url, 'GET', '/audit?tool=getProductById&kind=tools/call');
      return audit.body.entries.some((entry: { service: string; outcome: string }) => entry.service === 'shopping-service');
    });
  });
});

describe('the admin API', () => {
  it('applies its own overrides on its endpoint only: renamed, redescribed, hidden; routing stays exact', async () => {
    const overrides = {
      getUserById: { name: 'find_user', description: 'Looks a support user up by id', annotations: { readOnlyHint: true } },
      findCustomerByEmail: { hidden: true },
      notServed: { title: 'nothing' },
    };
    const created = await api(gateway.url, 'POST', '/virtual-servers', { name: 'desk', tools: ['getUserById', 'crm__*'], overrides }, ADMIN);
    expect(created.status).toBe(201);
    expect(created.body.serves.tools).toEqual(['find_user', 'deleteCustomer', 'refundOrder']);
    expect(created.body.overrideProblems).toEqual([{ tool: 'notServed', problem: 'this virtual server serves no tool of this name' }]);
    try {
      const client = await v2('/servers/desk/mcp');
      try {
        const tools = (await client.listTools()).tools;
        expect(names(tools)).toEqual(['deleteCustomer', 'find_user', 'refundOrder']);
        expect(tools.find((tool) => tool.name === 'find_user')).toMatchObject({
          description: 'Looks a support user up by id',
          annotations: { readOnlyHint: true },
        });
        const result = await client.callTool({ name: 'find_user', arguments: { id: '1' } });
        expect(result.isError).not.toBe(true);
        expect(JSON.stringify(result.structuredContent)).toContain('"id"');
        // The old name and the hidden tool are not callable here.
        await expect(client.callTool({ name: 'getUserById', arguments: { id: '1' } })).rejects.toThrow(/Unknown tool "getUserById"/);
        await expect(client.callTool({ name: 'findCustomerByEmail', arguments: { email: 'a@b.c' } })).rejects.toThrow(/Unknown tool/);
      } finally {
        await client.close();
      }
      // /mcp and the other virtual servers are as they were.
      const federated = (await mcp('/mcp', 'tools/list', {})).body.result.tools as { name: string; description?: string }[];
      expect(names(federated)).toContain('getUserById');
      expect(names(federated)).not.toContain('find_user');
      expect(names((await mcp('/servers/support/mcp', 'tools/list', {})).body.result.tools)).toEqual(['findCustomerByEmail', 'getUserById']);
      // A bad override is refused with the field named.
      const bad = await api(gateway.url, 'PUT', '/virtual-servers/desk', { tools: ['*'], overrides: { getUserById: { name: 'has space' } } }, ADMIN);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/overrides\.getUserById\.name: must be 1 to 64 letters/);
    } finally {
      await api(gateway.url, 'DELETE', '/virtual-servers/desk', undefined, ADMIN);
    }
  });

  it('validates, creates, replaces and deletes; stored across a restart; audited', async () => {
    const bad = await api(gateway.url, 'POST', '/virtual-servers', { name: 'Bad Name', tools: ['@'] }, ADMIN);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/name: must be lowercase letters/);
    expect(bad.body.message).toMatch(/tools\.0: selector "@" is not an annotation selector/);
    expect((await api(gateway.url, 'POST', '/virtual-servers', { name: 'late', tools: ['getProductById'] }, LIMITED)).status).toBe(403);

    const created = await api(gateway.url, 'POST', '/virtual-servers', { name: 'late', tools: ['getProductById'] }, ADMIN);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'late',
      path: '/servers/late/mcp',
      mode: 'catalog',
      source: 'registered',
      serves: { tools: ['getProductById'] },
    });
    expect((await api(gateway.url, 'POST', '/virtual-servers', { name: 'late', tools: [] }, ADMIN)).status).toBe(409);
    expect((await api(gateway.url, 'PUT', '/virtual-servers/support', { tools: [] }, ADMIN)).body.message).toMatch(/comes from the config file/);

    const replaced = await api(gateway.url, 'PUT', '/virtual-servers/late', { tools: ['shopping-service__*', 'getUserById'] }, ADMIN);
    expect(replaced.status).toBe(200);
    expect(names((await mcp('/servers/late/mcp', 'tools/list', {})).body.result.tools)).toEqual(['getProductById', 'getUserById']);

    await gateway.stop();
    gateway = await startGateway(gatewayEnv());
    await waitUntilUp(gateway.url, ['shopping-service', 'user-service', 'crm']);
    const listed = await api(gateway.url, 'GET', '/virtual-servers');
    expect(listed.body.virtualServers.map((server: { name: string }) => server.name)).toEqual(['support', 'danger', 'finder', 'late']);
    expect(names((await mcp('/servers/late/mcp', 'tools/list', {})).body.result.tools)).toEqual(['getProductById', 'getUserById']);

    expect((await api(gateway.url, 'DELETE', '/virtual-servers/late', undefined, ADMIN)).status).toBe(204);
    expect((await mcp('/servers/late/mcp', 'tools/list', {})).status).toBe(404);
    expect((await api(gateway.url, 'GET', '/virtual-servers/late')).status).toBe(404);

    const expected = ['virtual-server.create:ok', 'virtual-server.create:error', 'virtual-server.update:ok', 'virtual-server.delete:ok'];
    await eventually('the audit entries of the changes', async () => {
      const audit = await api(gateway.url, 'GET', '/audit?tool=late');
      const kinds = audit.body.entries.map((entry: { kind: string; outcome: string }) => `${entry.kind}:${entry.outcome}`);
      return JSON.stringify(kinds) === JSON.stringify(expected);
    });
  }, 60_000);
});
