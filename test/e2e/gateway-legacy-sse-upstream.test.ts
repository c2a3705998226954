/**
 * Services that speak only the 2024-11-05 HTTP+SSE transport, federated like any other: a
 * real SDK v1 `SSEServerTransport` server (test/fixtures/legacy-sse-service.ts), registered
 * once with `transport` left to `auto` (detected: POST refused with 405, then GET for the
 * `endpoint` event) and once as explicit `sse`. Through the gateway, an SDK v2 client lists
 * and calls its tools, gets progress and log messages, answers its sampling request, and
 * cancels a call; the gateway reconnects when the service's stream drops, and refuses a
 * service whose endpoint event names another origin or never ends.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LegacySseService, startLegacySseService } from '../fixtures/legacy-sse-service.js';
import { api, eventually, FIXTURE_CREDENTIAL, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

let gateway: StartedProcess;
let detected: LegacySseService;
let explicit: LegacySseService;
const clients: Client[] = [];

beforeAll(async () => {
  [detected, explicit] = await Promise.all([
    startLegacySseService({ name: 'detected', token: TOKEN }),
    startLegacySseService({ name: 'explicit', token: TOKEN }),
  ]);
  gateway = await startGateway({
    USER_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    MESHGATE_MAX_RESPONSE_BYTES: String(1024 * 1024),
  });
  const auto = await api(gateway.url, 'POST', '/register', { name: 'detected', url: detected.url, credential: FIXTURE_CREDENTIAL });
  expect(auto.status, JSON.stringify(auto.body)).toBe(201);
  expect(auto.body).toMatchObject({ transport: 'auto', status: 'up', tools: expect.arrayContaining([{ name: 'echo', upstreamName: 'echo' }]) });
  const sse = await api(gateway.url, 'POST', '/register', { name: 'explicit', url: explicit.url, transport: 'sse', credential: FIXTURE_CREDENTIAL });
  expect(sse.status, JSON.stringify(sse.body)).toBe(201);
  expect(sse.body).toMatchObject({ transport: 'sse', status: 'up' });
});
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await stopAll();
  await Promise.allSettled([detected?.close(), explicit?.close()]);
});

async function connect(answer = 'yes'): Promise<Client> {
  const client = new Client({ name: 'sse-upstream-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: answer } }));
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  clients.push(client);
  return client;
}

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]?.text;

describe('an HTTP+SSE service behind the gateway', () => {
  it('lists both services’ tools, the second under qualified names', async () => {
    const client = await connect();
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'count', 'chatty', 'ask', 'wait', 'explicit__echo', 'explicit__ask']));
  });

  it('calls a tool on the detected and on the explicit service', async () => {
    const client = await connect();
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('detected: hi');
    expect(textOf(await client.callTool({ name: 'explicit__echo', arguments: { text: 'ho' } }))).toBe('explicit: ho');
  });

  it('relays progress of a call to its client', async () => {
    const client = await connect();
    const seen: number[] = [];
    const result = await client.callTool({ name: 'explicit__count', arguments: { to: 4 } }, { onprogress: (p) => void seen.push(p.progress) });
    expect(textOf(result)).toBe('counted to 4');
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it("relays a log message of a call to that call's client", async () => {
    const client = await connect();
    const messages: unknown[] = [];
    client.setNotificationHandler('notifications/message', (notification) => void messages.push(notification.params.data));
    await client.callTool({ name: 'chatty', arguments: {} });
    await eventually('the log message', async () => messages.includes('working on it'), 5_000);
  });

  it("relays the service's sampling request to the calling client and its answer back", async () => {
    const client = await connect('forty-two');
    expect(textOf(await client.callTool({ name: 'ask', arguments: { question: 'what?' } }))).toBe('the client said: forty-two');
  });

  it("a client's cancellation reaches the service", async () => {
    const client = await connect();
    const controller = new AbortController();
    const call = client.callTool({ name: 'explicit__wait', arguments: { tag: 'cancel-me' } }, { signal: controller.signal });
    await eventually('the call to reach the service', async () => explicit.started.includes('cancel-me'));
    controller.abort();
    await expect(call).rejects.toThrow();
    await eventually('the service to see the cancellation', async () => explicit.cancelled.includes('cancel-me'), 5_000);
  });

  it('reconnects when the event stream drops, and calls succeed again', async () => {
    const before = explicit.opened();
    explicit.dropStreams();
    // The gateway notices the drop by itself (no call is in flight) and opens a new session.
    await eventually(
      'a new stream',
      async () => {
        const { body } = await api(gateway.url, 'GET', '/services/explicit');
        return body.status === 'up' && explicit.opened() > before && explicit.sessions() === 1;
      },
      10_000,
    );
    const client = await connect();
    expect(textOf(await client.callTool({ name: 'explicit__echo', arguments: { text: 'back' } }))).toBe('explicit: back');
  });
});

describe('choosing the transport', () => {
  it('with "streamable-http", an HTTP+SSE server is not tried the old way: 502 naming the refusal', async () => {
    const { status, body } = await api(gateway.url, 'POST', '/register', {
      name: 'strict',
      url: detected.url,
      transport: 'streamable-http',
      credential: FIXTURE_CREDENTIAL,
    });
    expect(status).toBe(502);
    expect(body.message).toMatch(/^Could not connect to service "strict" at .*: HTTP 405/);
  });

  it('a URL that answers neither transport fails with both answers named', async () => {
    const { status, body } = await api(gateway.url, 'POST', '/register', {
      name: 'nowhere',
      url: `http://127.0.0.1:${detected.port}/nothing`,
      credential: FIXTURE_CREDENTIAL,
    });
    expect(status).toBe(502);
    expect(body.message).toMatch(
      /^Could not connect to service "nowhere" at .*: neither transport answered: streamable HTTP \(POST initialize\): HTTP 404; HTTP\+SSE \(GET\): HTTP 404$/,
    );
  });

  it('PUT changes the transport in place: the service stays up and its tools keep working', async () => {
    const { status, body } = await api(gateway.url, 'PUT', '/services/detected', { transport: 'sse' });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ transport: 'sse', status: 'up' });
    const client = await connect();
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still' } }))).toBe('detected: still');
  });

  it('a transport that is not one of the three is refused with 400', async () => {
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'odd', url: detected.url, transport: 'websocket' });
    expect(status).toBe(400);
    expect(body.message).toMatch(/transport/);
  });
});

describe('hostile HTTP+SSE services', () => {
  it('an endpoint event on another origin is refused, naming the service', async () => {
    const hostile = await startLegacySseService({ token: TOKEN, hostile: 'foreign-endpoint' });
    try {
      const { status, body } = await api(gateway.url, 'POST', '/register', {
        name: 'elsewhere',
        url: hostile.url,
        transport: 'sse',
        credential: FIXTURE_CREDENTIAL,
      });
      expect(status).toBe(502);
      expect(body.message).toMatch(/service "elsewhere" named a message endpoint on another origin/);
      expect(body.message).not.toMatch(/169\.254/);
    } finally {
      await hostile.close();
    }
  });

  it('an event that never ends is cut off at the size limit', async () => {
    const hostile = await startLegacySseService({ token: TOKEN, hostile: 'huge-event' });
    try {
      const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'endless', url: hostile.url, credential: FIXTURE_CREDENTIAL });
      expect(status).toBe(502);
      expect(body.message).toMatch(/exceeds \d+ bytes/);
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      await hostile.close();
    }
  });
});
