/**
 * Resuming a client's event stream (streamable HTTP transport, "Resumability and
 * Redelivery"), on a real gateway: the GET stream and a POST's stream carry event ids and
 * open with a priming event; a client whose connection dropped reconnects with GET and
 * `Last-Event-ID` and gets exactly what it missed, then the rest live (for a POST stream
 * cut mid-call: the remaining progress and the answer); an SDK v2 client behind a TCP proxy
 * that cuts its connections resumes on its own; an id of another session, or a session of
 * another identity, is refused and replays nothing.
 */
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { api, eventually, FIXTURE_CREDENTIAL, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const OTHER = 'other-token-456';
/** Enough for the calls below to resume whole (25 progress and an answer), small enough to see eviction. */
const REPLAY_EVENTS = 30;
const VERSION = '2025-11-25';

let gateway: StartedProcess;
let alpha: ProtocolService;
let dynamic: DynamicService;

beforeAll(async () => {
  [alpha, dynamic] = await Promise.all([startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 3 }), startDynamicService({ name: 'dynamic' })]);
  gateway = await startGateway({
    USER_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    MESHGATE_REPLAY_BUFFER_EVENTS: String(REPLAY_EVENTS),
    MESHGATE_TOKENS: JSON.stringify([
      { name: 'ops', token: TOKEN, roles: ['admin', 'client'] },
      { name: 'other', token: OTHER, roles: ['client'] },
    ]),
  });
  for (const [name, url] of [
    ['alpha', alpha.url],
    ['dynamic', dynamic.url],
  ]) {
    expect((await api(gateway.url, 'POST', '/register', { name, url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
  }
  await eventually('both services in the catalog', async () => {
    const { messages } = await post(await initialize(), 1, 'tools/list');
    const names: string[] = messages[0]?.result?.tools?.map((tool: { name: string }) => tool.name) ?? [];
    return names.includes('count') && names.some((name) => name.includes('slow'));
  });
});
afterAll(async () => {
  await stopAll();
  await Promise.all([alpha?.close(), dynamic?.close()]);
});

interface Event {
  id: string | undefined;
  data: string;
}

/** A live event stream read off a raw HTTP response: its events as they come, and a way to drop the connection. */
interface Stream {
  status: number;
  headers: IncomingMessage['headers'];
  events: Event[];
  /** The body, when the answer is not an event stream. */
  body: () => string;
  ended: Promise<void>;
  drop(): void;
}

const messagesOf = (events: Event[]) => events.filter((event) => event.data !== '').map((event) => JSON.parse(event.data));

function open(method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const sent: ClientRequest = request({ host: '127.0.0.1', port: gateway.port, method, path: '/mcp', headers }, (response) => {
      const events: Event[] = [];
      let text = '';
      const parser = createParser({ onEvent: (event) => events.push({ id: event.id, data: event.data }) });
      response.setEncoding('utf8');
      const ended = new Promise<void>((done) => {
        response.on('end', () => done());
        response.on('close', () => done());
      });
      response.on('data', (chunk: string) => {
        text += chunk;
        parser.feed(chunk);
      });
      response.on('error', () => undefined);
      resolve({ status: response.statusCode ?? 0, headers: response.headers, events, body: () => text, ended, drop: () => sent.destroy() });
    });
    sent.on('error', (error) => (sent.destroyed ? undefined : reject(error)));
    sent.end(body);
  });
}

const common = (session: string | undefined, token = TOKEN): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  'mcp-protocol-version': VERSION,
  ...(session === undefined ? {} : { 'mcp-session-id': session }),
});

const message = (id: number, method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

function postStream(session: string, id: number, method: string, params?: unknown): Promise<Stream> {
  return open('POST', { ...common(session), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, message(id, method, params));
}

async function post(session: string, id: number, method: string, params?: unknown): Promise<{ status: number; messages: any[] }> {
  const answer = await postStream(session, id, method, params);
  await answer.ended;
  const type = String(answer.headers['content-type']);
  return { status: answer.status, messages: type.startsWith('text/event-stream') ? messagesOf(answer.events) : [JSON.parse(answer.body())] };
}

async function initialize(token = TOKEN): Promise<string> {
  const response = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: message(0, 'initialize', { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'resume-e2e', version: '1' } }),
  });
  const session = response.headers.get('mcp-session-id');
  await response.text();
  if (session === null) throw new Error(`initialize answered ${response.status} without a session`);
  return session;
}

function getStream(session: string, lastEventId?: string, token = TOKEN): Promise<Stream> {
  return open('GET', { ...common(session, token), accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) });
}

const streamOf = (id: string | undefined) => id?.split('.')[0];
const seqOf = (id: string | undefined) => Number(id?.split('.')[1]);

describe('the GET stream', () => {
  it('opens with a priming event; a client that dropped it and reconnects with Last-Event-ID gets exactly the list change and resource update it missed, then live ones', async () => {
    const session = await initialize();
    expect((await post(session, 1, 'resources/subscribe', { uri: 'alpha://item/0' })).messages[0]).toMatchObject({ result: {} });
    const first = await getStream(session);
    expect(first.status).toBe(200);
    await eventually('the priming event', async () => first.events.length > 0);
    expect(first.events[0]).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}\.0$/), data: '' });

    dynamic.addTool('seen-live');
    const seen = await eventually('the list change on the open stream', async () => first.events.find((event) => event.data.includes('list_changed')));
    expect(streamOf(seen.id)).toBe(streamOf(first.events[0]?.id));
    first.drop();

    // While the client is away: a list change and a resource update.
    dynamic.addTool('missed-while-away');
    await eventually('the gateway to list the new tool', async () =>
      (await post(session, 2, 'tools/list')).messages[0]?.result?.tools?.some((tool: { name: string }) => tool.name.includes('missed-while-away')),
    );
    expect(await alpha.touch('alpha://item/0')).toBe(1);

    const resumed = await getStream(session, seen.id);
    expect(resumed.status).toBe(200);
    await eventually('the missed events on the resumed stream', async () => messagesOf(resumed.events).length >= 2);
    expect(messagesOf(resumed.events)).toEqual([
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed' },
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'alpha://item/0' } },
    ]);
    // The same stream, taken up right after the last id the client saw: nothing seen twice, nothing skipped.
    expect(resumed.events.map((event) => event.id)).toEqual([`${streamOf(seen.id)}.${seqOf(seen.id) + 1}`, `${streamOf(seen.id)}.${seqOf(seen.id) + 2}`]);

    expect(await alpha.touch('alpha://item/0')).toBe(1);
    await eventually('a live update after the replay', async () => messagesOf(resumed.events).length === 3);
    expect(resumed.events[2]?.id).toBe(`${streamOf(seen.id)}.${seqOf(seen.id) + 3}`);
    resumed.drop();
  });
});

describe('a POST stream', () => {
  it('cut mid-call is resumed by GET with Last-Event-ID: the remaining progress, then the answer, and the stream ends', async () => {
    const session = await initialize();
    const call = await postStream(session, 7, 'tools/call', { name: 'count', arguments: { to: 25 }, _meta: { progressToken: 'p7' } });
    expect(String(call.headers['content-type'])).toMatch(/^text\/event-stream/);
    const firstProgress = await eventually('the first progress', async () => call.events.find((event) => event.data.includes('"progress":1,')));
    expect(call.events[0]).toEqual({ id: `${streamOf(firstProgress.id)}.0`, data: '' });
    call.drop();

    const resumed = await getStream(session, firstProgress.id);
    expect(resumed.status).toBe(200);
    await resumed.ended;
    const messages = messagesOf(resumed.events);
    expect(messages.slice(0, -1).map((entry) => entry.params.progress)).toEqual(Array.from({ length: 24 }, (_, i) => i + 2));
    expect(messages.at(-1)).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'counted to 25' }] } });
    expect(resumed.events.every((event) => streamOf(event.id) === streamOf(firstProgress.id))).toBe(true);

    // Resumed again after its answer was seen: nothing more, and the stream ends at once.
    const again = await getStream(session, resumed.events.at(-1)?.id);
    await again.ended;
    expect(again.status).toBe(200);
    expect(again.events).toEqual([]);
  });

  it("is resumed while the session's GET stream stays open: the two are separate streams", async () => {
    const session = await initialize();
    const listening = await getStream(session);
    await eventually('the GET priming event', async () => listening.events.length > 0);
    const call = await postStream(session, 8, 'tools/call', { name: 'count', arguments: { to: 5 }, _meta: { progressToken: 'p8' } });
    const progress = await eventually('a progress', async () => call.events.find((event) => event.data.includes('"progress"')));
    call.drop();
    const resumed = await getStream(session, progress.id);
    await resumed.ended;
    expect(resumed.status).toBe(200);
    expect(messagesOf(resumed.events).at(-1)).toMatchObject({ id: 8, result: { content: [{ text: 'counted to 5' }] } });
    expect(messagesOf(listening.events)).toEqual([]);
    listening.drop();
  });
});

describe('what is not replayed', () => {
  it("another session's event id is refused with 400, and nothing of that session is sent", async () => {
    const mine = await initialize();
    const theirs = await initialize();
    const call = await postStream(theirs, 9, 'tools/call', { name: 'count', arguments: { to: 3 }, _meta: { progressToken: 'secret' } });
    await call.ended;
    const theirId = call.events[0]?.id;
    expect(theirId).toMatch(/^[0-9a-f]{16}\.0$/);
    const refused = await getStream(mine, theirId);
    await refused.ended;
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body())).toMatchObject({
      error: { code: -32600, message: expect.stringContaining('Last-Event-ID names no stream of this session') },
    });
    expect(refused.body()).not.toContain('secret');
  });

  it(`an id whose successors were evicted (more than ${REPLAY_EVENTS} came since) is refused with 400; a recent one of the same stream still resumes`, async () => {
    const session = await initialize();
    const call = await postStream(session, 11, 'tools/call', { name: 'count', arguments: { to: 40 }, _meta: { progressToken: 'long' } });
    await call.ended;
    expect(call.events).toHaveLength(42); // priming, 40 progress, the answer
    const tooOld = await getStream(session, call.events[0]?.id);
    await tooOld.ended;
    expect(tooOld.status).toBe(400);
    expect(JSON.parse(tooOld.body()).error.message).toContain('no longer kept');
    expect(tooOld.events).toEqual([]);
    const recent = await getStream(session, call.events[40]?.id);
    await recent.ended;
    expect(recent.status).toBe(200);
    expect(messagesOf(recent.events)).toEqual([
      expect.objectContaining({ id: 11, result: expect.objectContaining({ content: [{ type: 'text', text: 'counted to 40' }] }) }),
    ]);
  });

  it('an id that is not one of the gateway ids is refused with 400', async () => {
    const session = await initialize();
    const refused = await getStream(session, 'not-an-id');
    await refused.ended;
    expect(refused.status).toBe(400);
  });

  it('a session of another identity is not found (404), whatever Last-Event-ID it names', async () => {
    const mine = await initialize();
    const call = await postStream(mine, 10, 'tools/call', { name: 'count', arguments: { to: 3 }, _meta: { progressToken: 'mine' } });
    await call.ended;
    const refused = await getStream(mine, call.events[0]?.id, OTHER);
    await refused.ended;
    expect(refused.status).toBe(404);
    expect(refused.body()).not.toContain('progress');
  });
});

/** A TCP proxy in front of the gateway whose connections a test can cut, all at once. */
async function startProxy(): Promise<{ url: string; cut(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(gateway.port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    cut: () => {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    close: () =>
      new Promise((closed) => {
        server.close(() => closed());
        // Keep-alive connections would hold the close open.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

describe('an SDK v2 client', () => {
  it('whose connections are cut mid-call resumes on its own with Last-Event-ID and gets its answer and every progress', async () => {
    const proxy = await startProxy();
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } });
    const client = new Client({ name: 'resume-sdk', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(transport.sessionId).toBeDefined();
      const progress: number[] = [];
      let cut = false;
      const result = await client.callTool(
        { name: 'count', arguments: { to: 25 } },
        {
          onprogress: (update) => {
            progress.push(update.progress);
            if (!cut) {
              cut = true;
              expect(proxy.cut()).toBeGreaterThan(0);
            }
          },
        },
      );
      expect(cut).toBe(true);
      expect(result.content).toEqual([{ type: 'text', text: 'counted to 25' }]);
      expect(progress).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    } finally {
      await client.close().catch(() => undefined);
      await proxy.close();
    }
  });
});
