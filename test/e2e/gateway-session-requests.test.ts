/**
 * Requests within a session, through the one /mcp pipeline: lists, ping, calls, prompts,
 * resources and errors; a call's log messages, progress and sampling requests on the
 * call's own event stream; cancellation and DELETE. Every request is sent twice, with a
 * declared Content-Length and chunked, and the answers must match: how a body is framed
 * on the wire never changes what the gateway does with it.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { api, eventually, FIXTURE_CREDENTIAL, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

let gateway: StartedProcess;
let alpha: ProtocolService;
let dynamic: DynamicService;

beforeAll(async () => {
  [alpha, dynamic] = await Promise.all([startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 3 }), startDynamicService({ name: 'dynamic' })]);
  gateway = await startGateway({ USER_SERVICE_URL: 'http://127.0.0.1:9/mcp', SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp' });
  for (const [name, url] of [
    ['alpha', alpha.url],
    ['dynamic', dynamic.url],
  ]) {
    expect((await api(gateway.url, 'POST', '/register', { name, url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
  }
});
afterAll(async () => {
  await stopAll();
  await Promise.all([alpha?.close(), dynamic?.close()]);
});

interface Answer {
  status: number;
  type: string;
  session: string | undefined;
  /** The JSON-RPC messages of the body: one for JSON, every event's for a stream. */
  messages: any[];
}

/** POSTs to /mcp with a declared Content-Length or chunked. */
function post(body: string, headers: Record<string, string>, way: 'declared' | 'chunked'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: '127.0.0.1',
        port: gateway.port,
        method: 'POST',
        path: '/mcp',
        headers: way === 'declared' ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const type = String(response.headers['content-type'] ?? '');
          const messages = type.startsWith('text/event-stream')
            ? text
                .split('\n')
                .filter((line) => line.startsWith('data: '))
                .map((line) => JSON.parse(line.slice(6)))
            : text === ''
              ? []
              : [JSON.parse(text)];
          resolve({ status: response.statusCode ?? 0, type, session: response.headers['mcp-session-id'] as string | undefined, messages });
        });
      },
    );
    sent.on('error', reject);
    if (way === 'declared') return sent.end(body);
    sent.write(body.slice(0, 5));
    sent.end(body.slice(5));
  });
}

const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}` };
const rpc = (id: number, method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

/** Opens a session whose client declares `capabilities`; returns the headers of its requests. */
async function openSession(capabilities: Record<string, unknown> = {}): Promise<Record<string, string>> {
  const init = await post(
    rpc(0, 'initialize', { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'session-requests', version: '1' } }),
    base,
    'chunked',
  );
  expect(init.status).toBe(200);
  const headers = { ...base, 'mcp-session-id': init.session ?? '', 'mcp-protocol-version': '2025-06-18' };
  expect((await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers, 'chunked')).status).toBe(202);
  return headers;
}

describe('requests in a session are answered alike however their body is framed', () => {
  it('lists, ping, calls, prompts, resources and errors: the same messages both ways', async () => {
    const session = await openSession();
    const requests: Array<[string, unknown?]> = [
      ['tools/list'],
      ['ping'],
      ['tools/call', { name: 'echo', arguments: { text: 'hi' } }],
      ['tools/call', { name: 'nope', arguments: {} }],
      ['prompts/list'],
      ['prompts/get', { name: 'greet', arguments: { who: 'pipeline' } }],
      ['resources/read', { uri: 'alpha://item/1' }],
      ['resources/templates/list'],
    ];
    for (const [index, [method, params]] of requests.entries()) {
      const declared = await post(rpc(index + 1, method, params), session, 'declared');
      const chunked = await post(rpc(index + 1, method, params), session, 'chunked');
      expect(declared.status, method).toBe(200);
      expect(declared.messages, method).toEqual(chunked.messages);
      // Plain JSON when the answer is all there is to send.
      expect([declared.type, chunked.type], method).toEqual([expect.stringMatching(/^application\/json/), expect.stringMatching(/^application\/json/)]);
      expect(declared.session).toBe(session['mcp-session-id']);
    }
  });

  it("a call's log message comes first on an event stream, then the answer, both ways", async () => {
    const session = await openSession();
    const declared = await post(rpc(1, 'tools/call', { name: 'chatty', arguments: {} }), session, 'declared');
    const chunked = await post(rpc(1, 'tools/call', { name: 'chatty', arguments: {} }), session, 'chunked');
    expect(declared.type).toMatch(/^text\/event-stream/);
    expect(declared.messages).toEqual(chunked.messages);
    expect(declared.messages.map((message) => message.method ?? 'answer')).toEqual(['notifications/message', 'answer']);
  });

  it("a call with a progress token streams the service's progress, then the answer, both ways", async () => {
    const session = await openSession();
    const call = rpc(1, 'tools/call', { name: 'count', arguments: { to: 3 }, _meta: { progressToken: 'p-1' } });
    const declared = await post(call, session, 'declared');
    const chunked = await post(call, session, 'chunked');
    expect(declared.messages).toEqual(chunked.messages);
    expect(declared.messages.map((message) => message.params?.progress ?? 'answer')).toEqual([1, 2, 3, 'answer']);
    expect(declared.messages[0]).toMatchObject({ method: 'notifications/progress', params: { progressToken: 'p-1', total: 3 } });
  });

  it('an unknown session is 404 both ways', async () => {
    const session = { ...(await openSession()), 'mcp-session-id': 'not-a-session' };
    expect((await post(rpc(1, 'tools/list'), session, 'declared')).status).toBe(404);
    expect((await post(rpc(1, 'tools/list'), session, 'chunked')).status).toBe(404);
  });

  it("a call's sampling request reaches the client on the call's stream, and the client's answer completes the call, both ways", async () => {
    const session = await openSession({ sampling: {} });
    for (const [way, answerWay] of [
      ['declared', 'declared'],
      ['chunked', 'chunked'],
      ['declared', 'chunked'],
    ] as const) {
      const events = await streamCall(rpc(1, 'tools/call', { name: 'ask', arguments: { question: 'ready?' } }), session, way, async (asked) => {
        expect(asked).toMatchObject({ method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'ready?' } }] } });
        const answer = JSON.stringify({
          jsonrpc: '2.0',
          id: asked.id,
          result: { role: 'assistant', content: { type: 'text', text: `yes, by ${answerWay}` }, model: 'test' },
        });
        expect((await post(answer, session, answerWay)).status).toBe(202);
      });
      expect(events.at(-1), `${way}, answered by ${answerWay}`).toEqual({
        jsonrpc: '2.0',
        id: 1,
        result: { content: [{ type: 'text', text: `alpha heard: yes, by ${answerWay}` }] },
      });
    }
  });
});

/**
 * POSTs a request whose answer streams, hands each request the stream carries to
 * `onRequest` (which answers it with a POST of its own), and resolves with every message.
 */
function streamCall(body: string, headers: Record<string, string>, way: 'declared' | 'chunked', onRequest: (message: any) => Promise<void>): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const messages: any[] = [];
    const sent = request(
      {
        host: '127.0.0.1',
        port: gateway.port,
        method: 'POST',
        path: '/mcp',
        headers: way === 'declared' ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers,
      },
      (response) => {
        let buffered = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines.filter((entry) => entry.startsWith('data: '))) {
            const message = JSON.parse(line.slice(6));
            messages.push(message);
            if (message.method !== undefined && message.id !== undefined) onRequest(message).catch(reject);
          }
        });
        response.on('end', () => resolve(messages));
      },
    );
    sent.on('error', reject);
    if (way === 'declared') return sent.end(body);
    sent.write(body.slice(0, 5));
    sent.end(body.slice(5));
  });
}

describe('cancelling and closing', () => {
  /** Starts a 10 s `slow` call; resolves once the service is running it. */
  async function slowCallInFlight(session: Record<string, string>, id: number) {
    const aborted = dynamic.abortedCount();
    const calls = dynamic.callCount('slow');
    const answer = post(rpc(id, 'tools/call', { name: 'slow', arguments: { ms: 10_000 } }), session, 'declared');
    await eventually('the slow call to reach the service', async () => dynamic.callCount('slow') > calls, 5_000);
    const cancelledUpstream = () => eventually('the service to see the call cancelled', async () => dynamic.abortedCount() > aborted, 5_000);
    return { answer, cancelledUpstream };
  }

  it('notifications/cancelled stops a call in flight: the service sees it cancelled, the POST ends without an answer', async () => {
    const session = await openSession();
    const call = await slowCallInFlight(session, 41);
    const cancel = await post(
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 41, reason: 'test' } }),
      session,
      'declared',
    );
    expect(cancel.status).toBe(202);
    const answer = await call.answer;
    expect(answer).toMatchObject({ status: 200, messages: [] });
    expect(answer.type).toMatch(/^text\/event-stream/);
    await call.cancelledUpstream();
  });

  it('a client that hangs up during a call does not cancel it (the spec says so) and leaves the gateway serving', async () => {
    const session = await openSession();
    const calls = dynamic.callCount('slow');
    const aborted = dynamic.abortedCount();
    const body = rpc(9, 'tools/call', { name: 'slow', arguments: { ms: 300 } });
    const sent = request({
      host: '127.0.0.1',
      port: gateway.port,
      method: 'POST',
      path: '/mcp',
      headers: { ...session, 'content-length': String(body.length) },
    });
    sent.on('error', () => undefined);
    sent.end(body);
    await eventually('the slow call to reach the service', async () => dynamic.callCount('slow') > calls, 5_000);
    sent.destroy();
    await new Promise((wake) => setTimeout(wake, 600)); // the call finishes and its answer meets a closed socket
    expect(dynamic.abortedCount()).toBe(aborted);
    const ping = await post(rpc(10, 'ping'), session, 'declared');
    expect(ping).toMatchObject({ status: 200, messages: [{ jsonrpc: '2.0', id: 10, result: {} }] });
  });

  it('DELETE of the session ends its calls in flight, and the service sees them cancelled', async () => {
    const session = await openSession();
    const call = await slowCallInFlight(session, 7);
    const deleted = await fetch(`${gateway.url}/mcp`, { method: 'DELETE', headers: session });
    expect(deleted.status).toBe(200);
    expect((await call.answer).messages).toEqual([]);
    await call.cancelledUpstream();
  });
});
