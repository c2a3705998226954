/**
 * The rest of the protocol, federated (issue 4): prompts, resources, resource templates,
 * completions, subscriptions, logging and sampling from two real services behind one
 * gateway, used by SDK v2 and v1 clients and by curl-style sessionless requests.
 *
 * alpha and beta are the same kind of service (test/fixtures/protocol-service.ts), both
 * paging their resource lists. They clash on purpose: both have the tools `ask` and
 * `chatty` and the prompt `greet`, so beta's are `beta__ask`, `beta__greet`...
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { api, eventually, FIXTURE_CREDENTIAL, rpc, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

let alpha: ProtocolService;
let beta: ProtocolService;
let gateway: StartedProcess;
const clients: { close(): Promise<void> }[] = [];

const ALPHA_RESOURCES = Array.from({ length: 5 }, (_, i) => `alpha://item/${i}`);
const BETA_RESOURCES = Array.from({ length: 4 }, (_, i) => `beta://item/${i}`);

beforeAll(async () => {
  [alpha, beta] = await Promise.all([
    startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 5, pageSize: 2 }),
    startProtocolService({ name: 'beta', scheme: 'beta', resources: 4, pageSize: 3 }),
  ]);
  const config = join(mkdtempSync(join(tmpdir(), 'meshgate-cfg-')), 'services.json');
  writeFileSync(config, JSON.stringify({ services: [] }));
  // A small page size, so the gateway's own lists page too.
  gateway = await startGateway({ MESHGATE_CONFIG: config, MESHGATE_LIST_PAGE_SIZE: '4' });
  for (const service of [
    { name: 'alpha', url: alpha.url, credential: FIXTURE_CREDENTIAL },
    { name: 'beta', url: beta.url, credential: FIXTURE_CREDENTIAL },
  ]) {
    expect((await api(gateway.url, 'POST', '/register', service)).status).toBe(201);
  }
});
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await stopAll();
  await Promise.allSettled([alpha?.close(), beta?.close()]);
});

/** An SDK v2 client with a session; its sampling handler answers `answer`. */
async function connect(answer = 'yes'): Promise<Client> {
  const client = new Client({ name: 'protocol-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: answer } }));
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  clients.push(client);
  return client;
}

/** Follows nextCursor to the end, counting pages. */
async function walk<T>(list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>) {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== undefined && pages < 50);
  return { items, pages };
}

describe('initialize', () => {
  it("answers with the capabilities the federation has and the gateway's own server info", async () => {
    const client = await connect();
    expect(client.getServerVersion()).toMatchObject({ name: 'meshgate' });
    expect(client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      completions: {},
      logging: {},
    });
  });
});

describe('lists across two paging services', () => {
  it('a client following nextCursor sees every resource of both services exactly once', async () => {
    const client = await connect();
    const { items, pages } = await walk(async (cursor) => {
      const result = await client.listResources(cursor === undefined ? {} : { cursor });
      return { items: result.resources.map((resource) => resource.uri), nextCursor: result.nextCursor };
    });
    // The SDK v2 client follows nextCursor itself; the sessionless test below counts pages.
    expect(items).toEqual([...ALPHA_RESOURCES, ...BETA_RESOURCES]);
    expect(pages).toBeGreaterThanOrEqual(1);
  });

  it('sessionless clients page the same way', async () => {
    const { items, pages } = await walk(async (cursor) => {
      const { body } = await rpc(gateway.url, 'resources/list', cursor === undefined ? {} : { cursor });
      return { items: body.result.resources.map((resource: { uri: string }) => resource.uri), nextCursor: body.result.nextCursor };
    });
    expect(items).toEqual([...ALPHA_RESOURCES, ...BETA_RESOURCES]);
    expect(pages).toBe(3); // 9 resources, 4 per page
  });

  it('an unknown cursor is invalid params', async () => {
    const { body } = await rpc(gateway.url, 'tools/list', { cursor: 'not-ours' });
    expect(body.error).toMatchObject({ code: -32602, message: expect.stringMatching(/cursor/) });
  });

  it('lists prompts and templates with clashing names namespaced', async () => {
    const client = await connect();
    expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['greet', 'beta__greet']);
    expect((await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate)).toEqual(['alpha://item/{id}', 'beta://item/{id}']);
    const { body } = await api(gateway.url, 'GET', '/services/beta');
    expect(body.prompts).toEqual([{ name: 'beta__greet', upstreamName: 'greet' }]);
  });
});

describe('requests routed to the owner', () => {
  it('prompts/get by bare and qualified name', async () => {
    const client = await connect();
    const greet = async (name: string) => (await client.getPrompt({ name, arguments: { who: 'ada' } })).messages[0]?.content;
    expect(await greet('greet')).toEqual({ type: 'text', text: 'alpha greets ada' });
    expect(await greet('beta__greet')).toEqual({ type: 'text', text: 'beta greets ada' });
    expect(await greet('alpha__greet')).toEqual({ type: 'text', text: 'alpha greets ada' });
  });

  it('resources/read by listed URI, by template match, and by the qualified form', async () => {
    const client = await connect();
    const read = async (uri: string) => (await client.readResource({ uri })).contents[0];
    expect(await read('beta://item/2')).toMatchObject({ uri: 'beta://item/2', text: 'beta holds beta://item/2' });
    expect(await read('alpha://item/99')).toMatchObject({ uri: 'alpha://item/99', text: 'alpha holds alpha://item/99' });
    // The qualified form reaches the service with its own URI and comes back under the one asked for.
    expect(await read('meshgate://beta/beta://item/1')).toMatchObject({ uri: 'meshgate://beta/beta://item/1', text: 'beta holds beta://item/1' });
  });

  it('an unknown resource is -32002 naming the URI', async () => {
    const { body } = await rpc(gateway.url, 'resources/read', { uri: 'nowhere://x' });
    expect(body.error).toMatchObject({ code: -32002, message: expect.stringContaining('nowhere://x') });
  });

  it('completion/complete goes to the service that owns the prompt', async () => {
    const client = await connect();
    const result = await client.complete({ ref: { type: 'ref/prompt', name: 'beta__greet' }, argument: { name: 'who', value: 'al' } });
    expect(result.completion.values).toEqual(['alice@beta', 'albert@beta']);
    const byTemplate = await client.complete({ ref: { type: 'ref/resource', uri: 'alpha://item/{id}' }, argument: { name: 'id', value: 'b' } });
    expect(byTemplate.completion.values).toEqual(['bob@alpha']);
  });
});

describe('notifications and requests during calls', () => {
  it('resources/subscribe reaches the owning service once, and its update reaches the subscriber', async () => {
    const client = await connect();
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (notification) => void updates.push(notification.params.uri));
    await client.subscribeResource({ uri: 'beta://item/1' });
    expect(beta.subscriptions()['beta://item/1']).toBe(1);
    await new Promise((wake) => setTimeout(wake, 300)); // the client's GET stream opens
    expect(await beta.touch('beta://item/1')).toBe(1);
    await eventually('the update at the client', async () => updates.includes('beta://item/1'), 5_000);
    await client.unsubscribeResource({ uri: 'beta://item/1' });
    expect(beta.subscriptions()['beta://item/1']).toBe(0);
  });

  it("a service that restarts gets the gateway's subscription again, so updates keep reaching the subscriber", async () => {
    const client = await connect();
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (notification) => void updates.push(notification.params.uri));
    await client.subscribeResource({ uri: 'alpha://item/4' });
    const port = Number(new URL(alpha.url).port);
    await alpha.close();
    await eventually('alpha down', async () => (await api(gateway.url, 'GET', '/services/alpha')).body.status === 'down', 10_000);
    alpha = await startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 5, pageSize: 2, port });
    await eventually('alpha up again', async () => (await api(gateway.url, 'GET', '/services/alpha')).body.status === 'up', 10_000);
    await eventually('the renewed subscription', async () => alpha.subscriptions()['alpha://item/4'] === 1, 5_000);
    await alpha.touch('alpha://item/4');
    await eventually('the update at the client', async () => updates.includes('alpha://item/4'), 5_000);
  });

  it('sampling requests are relayed to the client whose call made them, concurrently', async () => {
    const [first, second] = await Promise.all([connect('from first'), connect('from second')]);
    const [a, b] = await Promise.all([
      first.callTool({ name: 'ask', arguments: { question: 'q1' } }),
      second.callTool({ name: 'beta__ask', arguments: { question: 'q2' } }),
    ]);
    expect(a.content).toEqual([{ type: 'text', text: 'alpha heard: from first' }]);
    expect(b.content).toEqual([{ type: 'text', text: 'beta heard: from second' }]);
  });

  it('a sampling request the service does not tie to the call goes to the client of the one call in flight', async () => {
    const client = await connect('aside');
    const result = await client.callTool({ name: 'ask-aside', arguments: { question: 'q' } });
    expect(result.content).toEqual([{ type: 'text', text: 'alpha heard: aside' }]);
  });

  it('progress reaches only the client whose call it belongs to', async () => {
    const [first, second] = await Promise.all([connect(), connect()]);
    const seen: { first: number[]; second: number[] } = { first: [], second: [] };
    const [a, b] = await Promise.all([
      first.callTool({ name: 'count', arguments: { to: 3 } }, { onprogress: (p) => void seen.first.push(p.progress) }),
      second.callTool({ name: 'beta__count', arguments: { to: 5 } }, { onprogress: (p) => void seen.second.push(p.progress) }),
    ]);
    expect(a.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
    expect(b.content).toEqual([{ type: 'text', text: 'counted to 5' }]);
    expect(seen).toEqual({ first: [1, 2, 3], second: [1, 2, 3, 4, 5] });
  });

  it('a sessionless call whose service asks for sampling fails clearly', async () => {
    const { body } = await rpc(gateway.url, 'tools/call', { name: 'ask', arguments: { question: 'q' } });
    expect(JSON.stringify(body)).toMatch(/sampling\/createMessage/);
  });

  it("log messages sent during a call reach that call's client", async () => {
    const client = await connect();
    const messages: unknown[] = [];
    client.setNotificationHandler('notifications/message', (notification) => void messages.push(notification.params.data));
    await client.callTool({ name: 'chatty', arguments: {} });
    await eventually('the log message', async () => messages.includes('alpha is working'), 5_000);
  });

  it('sessionless resources/subscribe is refused with a reason', async () => {
    const { body } = await rpc(gateway.url, 'resources/subscribe', { uri: 'alpha://item/1' });
    expect(body.error).toMatchObject({ code: -32600, message: expect.stringMatching(/session/) });
  });
});

describe('sessions and list changes', () => {
  it('DELETE ends a session: its id then gets 404; a request without one on GET gets 400', async () => {
    const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    const init = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });
    const session = init.headers.get('mcp-session-id');
    await init.body?.cancel();
    expect(session).toMatch(/^[\x21-\x7e]{16,}$/);
    const withSession = { ...headers, 'Mcp-Session-Id': session as string, 'MCP-Protocol-Version': '2025-11-25' };
    expect((await fetch(`${gateway.url}/mcp`, { method: 'DELETE', headers: withSession })).status).toBe(200);
    const after = await fetch(`${gateway.url}/mcp`, { method: 'POST', headers: withSession, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) });
    expect(after.status).toBe(404);
    expect((await fetch(`${gateway.url}/mcp`, { method: 'GET', headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'text/event-stream' } })).status).toBe(400);
  });

  it('a newly registered service with prompts and resources sends prompts and resources list_changed', async () => {
    const client = await connect();
    const changed: string[] = [];
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      client.setNotificationHandler(`notifications/${kind}/list_changed`, () => void changed.push(kind));
    }
    await new Promise((wake) => setTimeout(wake, 300)); // the client's GET stream opens
    const gamma = await startProtocolService({ name: 'gamma', scheme: 'gamma', prefix: 'g-', resources: 1 });
    try {
      expect((await api(gateway.url, 'POST', '/register', { name: 'gamma', url: gamma.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
      await eventually('all three list_changed', async () => ['tools', 'prompts', 'resources'].every((kind) => changed.includes(kind)), 5_000);
      expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toContain('g-greet');
    } finally {
      await api(gateway.url, 'DELETE', '/services/gamma');
      await gamma.close();
    }
  });
});

describe('an SDK v1 client', () => {
  it('lists and uses prompts and resources through the gateway', async () => {
    const client = new ClientV1({ name: 'v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    clients.push(client);
    expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['greet', 'beta__greet']);
    const resources = await walk(async (cursor) => {
      const result = await client.listResources(cursor === undefined ? {} : { cursor });
      return { items: result.resources.map((resource) => resource.uri), nextCursor: result.nextCursor };
    });
    expect(resources.items).toHaveLength(9);
    expect((await client.readResource({ uri: 'alpha://item/0' })).contents[0]).toMatchObject({ text: 'alpha holds alpha://item/0' });
  });
});
