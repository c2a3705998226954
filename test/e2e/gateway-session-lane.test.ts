/**
 * Within a session, the gateway serves lists, ping and the calls of a client that takes
 * no sampling, elicitation or roots requests on its lean lane (http/mcp-lane.ts,
 * SessionServers.leanPlan), and everything else with the session's SDK server. The lane
 * takes only requests with a declared length, so sending each request with
 * Content-Length and again chunked compares the two: the JSON-RPC messages must match
 * (the lane answers JSON when the answer is all there is, the SDK an event stream).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { api, eventually, startGateway, TOKEN } from '../helpers/mesh.js';
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
    expect((await api(gateway.url, 'POST', '/register', { name, url })).status).toBe(201);
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

/** POSTs to /mcp with Content-Length (`lane`) or chunked (`route`, which the lane never takes). */
function post(body: string, headers: Record<string, string>, way: 'lane' | 'route'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: '127.0.0.1',
        port: gateway.port,
        method: 'POST',
        path: '/mcp',
        headers: way === 'lane' ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers,
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
    if (way === 'lane') return sent.end(body);
    sent.write(body.slice(0, 5));
    sent.end(body.slice(5));
  });
}

const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}` };
const rpc = (id: number, method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

/** Opens a session whose client declares `capabilities`; returns the headers of its requests. */
async function openSession(capabilities: Record<string, unknown> = {}): Promise<Record<string, string>> {
  const init = await post(
    rpc(0, 'initialize', { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'session-lane', version: '1' } }),
    base,
    'route',
  );
  expect(init.status).toBe(200);
  const headers = { ...base, 'mcp-session-id': init.session ?? '', 'mcp-protocol-version': '2025-06-18' };
  expect((await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers, 'route')).status).toBe(202);
  return headers;
}

describe('the session lane answers as the SDK server does', () => {
  it('lists, ping, calls, prompts, resources and errors: the same messages both ways', async () => {
    const session = await openSession();
    const requests: Array<[string, unknown?]> = [
      ['tools/list'],
      ['ping'],
      ['tools/call', { name: 'echo', arguments: { text: 'hi' } }],
      ['tools/call', { name: 'nope', arguments: {} }],
      ['prompts/list'],
      ['prompts/get', { name: 'greet', arguments: { who: 'lane' } }],
      ['resources/read', { uri: 'alpha://item/1' }],
      ['resources/templates/list'],
    ];
    for (const [index, [method, params]] of requests.entries()) {
      const lane = await post(rpc(index + 1, method, params), session, 'lane');
      const route = await post(rpc(index + 1, method, params), session, 'route');
      expect(lane.status, method).toBe(200);
      expect(lane.messages, method).toEqual(route.messages);
      // The lane answers plain JSON when the answer is all there is; the SDK server streams.
      expect([lane.type, route.type], method).toEqual([expect.stringMatching(/^application\/json/), expect.stringMatching(/^text\/event-stream/)]);
      expect(lane.session).toBe(session['mcp-session-id']);
    }
  });

  it("a call's log message comes first on an event stream, then the answer, both ways", async () => {
    const session = await openSession();
    const lane = await post(rpc(1, 'tools/call', { name: 'chatty', arguments: {} }), session, 'lane');
    const route = await post(rpc(1, 'tools/call', { name: 'chatty', arguments: {} }), session, 'route');
    expect(lane.type).toMatch(/^text\/event-stream/);
    expect(lane.messages).toEqual(route.messages);
    expect(lane.messages.map((message) => message.method ?? 'answer')).toEqual(['notifications/message', 'answer']);
  });

  it("a call with a progress token streams the service's progress, then the answer, both ways", async () => {
    const session = await openSession();
    const call = rpc(1, 'tools/call', { name: 'count', arguments: { to: 3 }, _meta: { progressToken: 'p-1' } });
    const lane = await post(call, session, 'lane');
    const route = await post(call, session, 'route');
    expect(lane.messages).toEqual(route.messages);
    expect(lane.messages.map((message) => message.params?.progress ?? 'answer')).toEqual([1, 2, 3, 'answer']);
    expect(lane.messages[0]).toMatchObject({ method: 'notifications/progress', params: { progressToken: 'p-1', total: 3 } });
  });

  it('an unknown session is 404 both ways', async () => {
    const session = { ...(await openSession()), 'mcp-session-id': 'not-a-session' };
    expect((await post(rpc(1, 'tools/list'), session, 'lane')).status).toBe(404);
    expect((await post(rpc(1, 'tools/list'), session, 'route')).status).toBe(404);
  });

  it("a call's sampling request reaches the client on the call's stream, and the client's answer completes the call, both ways", async () => {
    const session = await openSession({ sampling: {} });
    for (const [way, answerWay] of [
      ['lane', 'lane'],
      ['route', 'route'],
      ['lane', 'route'],
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
function streamCall(body: string, headers: Record<string, string>, way: 'lane' | 'route', onRequest: (message: any) => Promise<void>): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const messages: any[] = [];
    const sent = request(
      {
        host: '127.0.0.1',
        port: gateway.port,
        method: 'POST',
        path: '/mcp',
        headers: way === 'lane' ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers,
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
    if (way === 'lane') return sent.end(body);
    sent.write(body.slice(0, 5));
    sent.end(body.slice(5));
  });
}

describe('cancelling and closing', () => {
  /** Starts a 10 s `slow` call on the lane; resolves once the service is running it. */
  async function slowCallInFlight(session: Record<string, string>, id: number) {
    const aborted = dynamic.abortedCount();
    const calls = dynamic.callCount('slow');
    const answer = post(rpc(id, 'tools/call', { name: 'slow', arguments: { ms: 10_000 } }), session, 'lane');
    await eventually('the slow call to reach the service', async () => dynamic.callCount('slow') > calls, 5_000);
    const cancelledUpstream = () => eventually('the service to see the call cancelled', async () => dynamic.abortedCount() > aborted, 5_000);
    return { answer, cancelledUpstream };
  }

  it('notifications/cancelled stops a call the lane serves: the service sees it cancelled, the POST ends without an answer', async () => {
    const session = await openSession();
    const call = await slowCallInFlight(session, 41);
    const cancel = await post(
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 41, reason: 'test' } }),
      session,
      'lane',
    );
    expect(cancel.status).toBe(202);
    const answer = await call.answer;
    expect(answer).toMatchObject({ status: 200, messages: [] });
    expect(answer.type).toMatch(/^text\/event-stream/);
    await call.cancelledUpstream();
  });

  it('a client that hangs up during a lane call does not cancel it (the spec says so) and leaves the gateway serving', async () => {
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
    const ping = await post(rpc(10, 'ping'), session, 'lane');
    expect(ping).toMatchObject({ status: 200, messages: [{ jsonrpc: '2.0', id: 10, result: {} }] });
  });

  it('DELETE of the session ends its calls on the lane, and the service sees them cancelled', async () => {
    const session = await openSession();
    const call = await slowCallInFlight(session, 7);
    const deleted = await fetch(`${gateway.url}/mcp`, { method: 'DELETE', headers: session });
    expect(deleted.status).toBe(200);
    expect((await call.answer).messages).toEqual([]);
    await call.cancelledUpstream();
  });
});
