/**
 * Clients that speak only the 2024-11-05 HTTP+SSE transport: the SDK v1 `SSEClientTransport`
 * against the gateway's `GET /sse` and `POST /messages`, in front of the seed's real
 * services and a service that reports progress and asks for sampling. The legacy door
 * has the same locks as `/mcp`: Bearer token, Origin, and sessions bound to the identity
 * that opened them.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { api, eventually, FIXTURE_CREDENTIAL, type Mesh, startMesh } from '../helpers/mesh.js';
import { stopAll } from '../helpers/process.js';

const ALICE = 'alice-token';
const BOB = 'bob-token';
const TOKENS = [
  { name: 'alice', token: ALICE, roles: ['client', 'admin'] },
  { name: 'bob', token: BOB, roles: ['client'] },
];

let mesh: Mesh;
let alpha: ProtocolService;
const clients: Client[] = [];

beforeAll(async () => {
  alpha = await startProtocolService({ name: 'alpha', scheme: 'alpha' });
  mesh = await startMesh({ MESHGATE_TOKENS: JSON.stringify(TOKENS) });
  const registered = await api(mesh.gateway.url, 'POST', '/register', { name: 'alpha', url: alpha.url, credential: FIXTURE_CREDENTIAL }, ALICE);
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
});
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await stopAll();
  await alpha?.close();
});

/** An SDK v1 client over SSEClientTransport, its sampling handler answering `answer`. */
async function connect(token = ALICE, answer = 'yes'): Promise<Client> {
  const client = new Client({ name: 'legacy-sse-client', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: answer } }));
  await client.connect(new SSEClientTransport(new URL(`${mesh.gateway.url}/sse`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}

interface RawStream {
  endpoint: string;
  /** The next event's name and data, in the order the gateway wrote them. */
  next(): Promise<{ event: string; data: string }>;
  /** POSTs one message to the endpoint with `token`. */
  post(message: unknown, token?: string): Promise<Response>;
  close(): void;
}

/** Opens `GET /sse` by hand and reads its first event: the message endpoint. */
async function openStream(token: string): Promise<RawStream> {
  const controller = new AbortController();
  const response = await fetch(`${mesh.gateway.url}/sse`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const next = async () => {
    while (!buffered.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffered += decoder.decode(value, { stream: true });
    }
    const end = buffered.indexOf('\n\n');
    const block = buffered.slice(0, end);
    buffered = buffered.slice(end + 2);
    return { event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message', data: /^data: (.*)$/m.exec(block)?.[1] ?? '' };
  };
  const first = await next();
  expect(first.event).toBe('endpoint');
  expect(first.data).toMatch(/^\/messages\?sessionId=[0-9a-f-]{36}$/);
  const post = (message: unknown, as = token) =>
    fetch(`${mesh.gateway.url}${first.data}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${as}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(message),
    });
  return { endpoint: first.data, next, post, close: () => controller.abort() };
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
};

describe('an HTTP+SSE client of the gateway', () => {
  it('initializes and lists the federated tools', async () => {
    const client = await connect();
    expect(client.getServerVersion()?.name).toBe('meshgate');
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['getProductById', 'getUserById', 'count', 'ask']));
  });

  it('calls a seed tool', async () => {
    const client = await connect();
    const result = await client.callTool({ name: 'getProductById', arguments: { id: '123' } });
    expect(result.structuredContent).toMatchObject({ id: '123', name: 'Aurora ANC Wireless Headphones' });
    // Like /mcp's, each request gets an access-log line with its identity, and the initialize answer the gateway's instructions.
    expect(client.getInstructions()).toMatch(/^Meshgate federates/);
    await eventually('an access-log line for POST /messages', async () =>
      mesh.gateway
        .output()
        .split('\n')
        .some((line) => line.includes('"msg":"request"') && line.includes('"path":"/messages"') && line.includes('"identity":"alice"')),
    );
  });

  it("gets a call's progress on its stream, each before the answer", async () => {
    const stream = await openStream(ALICE);
    try {
      expect((await stream.post(initialize)).status).toBe(202);
      expect(JSON.parse((await stream.next()).data)).toMatchObject({ id: 1, result: { serverInfo: { name: 'meshgate' } } });
      expect((await stream.post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
      const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'count', arguments: { to: 3 }, _meta: { progressToken: 'p' } } };
      expect((await stream.post(call)).status).toBe(202);
      const events = [];
      for (let i = 0; i < 4; i += 1) events.push(JSON.parse((await stream.next()).data));
      expect(events.slice(0, 3).map((event) => [event.method, event.params.progress])).toEqual([
        ['notifications/progress', 1],
        ['notifications/progress', 2],
        ['notifications/progress', 3],
      ]);
      expect(events[3]).toMatchObject({ id: 2, result: { content: [{ type: 'text', text: 'counted to 3' }] } });
    } finally {
      stream.close();
    }
  });

  it('an SDK v1 client hears the progress of its call', async () => {
    const client = await connect();
    const seen: number[] = [];
    const result = await client.callTool({ name: 'count', arguments: { to: 3 } }, undefined, { onprogress: (p) => void seen.push(p.progress) });
    expect(result.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
    // The v1 SDK runs notification handlers a microtask late and answers at once, so the last
    // progress event, read in the same chunk as the answer, can come after it has stopped
    // listening; the test above pins the order on the wire.
    expect(seen.slice(0, 2)).toEqual([1, 2]);
  });

  it("answers a service's sampling request made during its call", async () => {
    const client = await connect(ALICE, 'over sse');
    const result = await client.callTool({ name: 'ask', arguments: { question: 'how?' } });
    expect(result.content).toEqual([{ type: 'text', text: 'alpha heard: over sse' }]);
  });
});

describe('the HTTP+SSE door has the locks of /mcp', () => {
  it('refuses a GET /sse without a token with 401 and the challenge', async () => {
    const response = await fetch(`${mesh.gateway.url}/sse`, { headers: { Accept: 'text/event-stream' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="meshgate", resource_metadata=/);
    await response.body?.cancel();
  });

  it('refuses a GET /sse from a page of another origin with 403', async () => {
    const response = await fetch(`${mesh.gateway.url}/sse`, {
      headers: { Accept: 'text/event-stream', Authorization: `Bearer ${ALICE}`, Origin: 'http://evil.example' },
    });
    expect(response.status).toBe(403);
    await response.body?.cancel();
  });

  it("refuses a POST for another identity's session as unknown (404), and takes its owner's (202)", async () => {
    const stream = await openStream(ALICE);
    try {
      const bob = await stream.post(initialize, BOB);
      expect(bob.status).toBe(404);
      expect((await bob.json()).error.message).toMatch(/Session not found/);
      expect((await stream.post(initialize)).status).toBe(202);
      expect(JSON.parse((await stream.next()).data)).toMatchObject({ id: 1, result: { protocolVersion: '2024-11-05' } });
      // Once initialized, still only its owner may use it.
      expect((await stream.post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, BOB)).status).toBe(404);
      const unknown = await fetch(`${mesh.gateway.url}/messages?sessionId=00000000-0000-0000-0000-000000000000`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ALICE}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(initialize),
      });
      expect(unknown.status).toBe(404);
    } finally {
      stream.close();
    }
  });

  it('refuses a POST without a token (401) and a request before initialize (400)', async () => {
    const stream = await openStream(BOB);
    try {
      const anonymous = await fetch(`${mesh.gateway.url}${stream.endpoint}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(anonymous.status).toBe(401);
      const early = await stream.post({ jsonrpc: '2.0', id: 7, method: 'tools/list' });
      expect(early.status).toBe(400);
      expect((await early.json()).error).toMatchObject({ message: expect.stringMatching(/initialize first/) });
    } finally {
      stream.close();
    }
  });
});
