import { ProtocolError } from '@modelcontextprotocol/client';
import { describe, expect, it, vi } from 'vitest';
import { InvalidAnswerError, SessionLostError, UpstreamHttpError, UpstreamTimeoutError } from './errors.js';
import type { Exchange, ExchangeEvents, HttpLink, ResponseHeaders } from './exchange.js';
import type { Downstream } from './relay.js';
import { REQUESTED_PROTOCOL_VERSION, StreamableHttpTransport } from './streamable-http.js';
import type { TransportEvents, TransportLimits } from './transport.js';

/** One request the transport sent, and the means to answer it. */
interface Sent {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: Record<string, unknown> | undefined;
  events: ExchangeEvents;
  aborted: boolean;
}

const NOOP = () => undefined;
const IGNORE: ExchangeEvents = { head: NOOP, data: NOOP, end: NOOP, error: NOOP };

/** A service scripted per request: `answer` is called (a microtask later, like a socket) for each one sent. */
class FakeLink implements HttpLink {
  readonly sent: Sent[] = [];
  closed: 'now' | 'drain' | undefined;
  constructor(readonly answer: (sent: Sent) => void) {}

  send(method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, events: ExchangeEvents = IGNORE): Exchange {
    const sent: Sent = { method, headers, body: body === undefined ? undefined : JSON.parse(body), events, aborted: false };
    this.sent.push(sent);
    queueMicrotask(() => this.answer(sent));
    return {
      abort: () => {
        sent.aborted = true;
      },
      closeWithin: NOOP,
    };
  }

  close(drain = false): void {
    this.closed = drain ? 'drain' : 'now';
  }

  posts(method: string): Sent[] {
    return this.sent.filter((sent) => sent.method === 'POST' && sent.body?.['method'] === method);
  }
}

function head(sent: Sent, status: number, headers: ResponseHeaders = {}): void {
  if (!sent.aborted) sent.events.head(status, '', headers);
}
function json(sent: Sent, message: unknown, headers: ResponseHeaders = {}): void {
  head(sent, 200, { 'content-type': 'application/json', ...headers });
  if (!sent.aborted) sent.events.data(Buffer.from(JSON.stringify(message)));
  if (!sent.aborted) sent.events.end();
}
function sseHead(sent: Sent): void {
  head(sent, 200, { 'content-type': 'text/event-stream' });
}
function event(sent: Sent, message: unknown, id?: string, retry?: number): void {
  const fields = `${retry === undefined ? '' : `retry: ${retry}\n`}${id === undefined ? '' : `id: ${id}\n`}`;
  if (!sent.aborted) sent.events.data(Buffer.from(`${fields}data: ${JSON.stringify(message)}\n\n`));
}
const accepted = (sent: Sent) => {
  head(sent, 202);
  if (!sent.aborted) sent.events.end();
};
const result = (sent: Sent, value: Record<string, unknown>) => ({ jsonrpc: '2.0', id: sent.body?.['id'], result: value });

const HANDSHAKE = { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1.0.0' }, instructions: 'be nice' };
const LIMITS: TransportLimits = { connectMs: 200, requestMs: 1_000, maxRequestMs: 5_000, maxResponseBytes: 10_000 };
const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

/** The service's part: the handshake, notifications accepted, no GET stream; `call` answers the rest. */
function service(call: (sent: Sent) => void = NOOP, options: { get?: (sent: Sent) => void; handshake?: unknown } = {}) {
  return (sent: Sent) => {
    if (sent.method === 'GET') return (options.get ?? ((get: Sent) => head(get, 405)))(sent);
    const method = sent.body?.['method'];
    if (method === 'initialize')
      return json(sent, result(sent, (options.handshake ?? HANDSHAKE) as Record<string, unknown>), { 'mcp-session-id': 'session-1' });
    if (sent.body?.['id'] === undefined) return accepted(sent);
    call(sent);
  };
}

function setup(answer: (sent: Sent) => void, limits: Partial<TransportLimits> = {}) {
  const link = new FakeLink(answer);
  const events = {
    notification: vi.fn<TransportEvents['notification']>(),
    request: vi.fn<TransportEvents['request']>(async () => ({})),
    sessionLost: vi.fn<TransportEvents['sessionLost']>(),
  };
  const log = vi.fn();
  const transport = new StreamableHttpTransport(
    { service: 'fake', url: 'http://fake.test/mcp', headers: { authorization: 'Bearer t' }, limits: { ...LIMITS, ...limits }, log, link },
    events,
  );
  return { link, events, transport, log };
}

describe('StreamableHttpTransport', () => {
  it('opens the session: initialize, the session id on every later request, notifications/initialized, then the GET stream', async () => {
    const { link, transport, events, log } = setup(service((sent) => json(sent, result(sent, { tools: [] }))));
    const handshake = await transport.start();
    expect(handshake).toEqual(HANDSHAKE);

    const [initialize] = link.posts('initialize');
    expect(initialize?.body?.['params']).toEqual({
      protocolVersion: REQUESTED_PROTOCOL_VERSION,
      capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: {} },
      clientInfo: { name: 'meshgate', version: '0.1.0' },
    });
    expect(REQUESTED_PROTOCOL_VERSION.startsWith('2025-')).toBe(true);
    expect(initialize?.headers['mcp-session-id']).toBeUndefined();
    expect(initialize?.headers['authorization']).toBe('Bearer t');

    const [initialized] = link.posts('notifications/initialized');
    expect(initialized?.headers).toMatchObject({ 'mcp-session-id': 'session-1', 'mcp-protocol-version': '2025-11-25' });

    expect(await transport.request('tools/list', undefined)).toEqual({ tools: [] });
    expect(link.posts('tools/list')[0]?.headers).toMatchObject({
      'mcp-session-id': 'session-1',
      'mcp-protocol-version': '2025-11-25',
      authorization: 'Bearer t',
    });

    // The GET stream was asked for; a 405 means there is none: no retry, no loss, nothing logged.
    await tick();
    const gets = link.sent.filter((sent) => sent.method === 'GET');
    expect(gets).toHaveLength(1);
    expect(gets[0]?.headers).toMatchObject({ accept: 'text/event-stream', 'mcp-session-id': 'session-1' });
    expect(gets[0]?.headers['content-type']).toBeUndefined();
    expect(events.sessionLost).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('refuses a protocol version it does not speak, naming the service and the version', async () => {
    const { transport } = setup(service(NOOP, { handshake: { ...HANDSHAKE, protocolVersion: '2099-01-01' } }));
    await expect(transport.start()).rejects.toThrow(InvalidAnswerError);
    await expect(setup(service(NOOP, { handshake: { ...HANDSHAKE, protocolVersion: '2099-01-01' } })).transport.start()).rejects.toThrow(
      /service "fake" answered initialize with protocol version 2099-01-01,/,
    );
  });

  it('passes a JSON-RPC error on as a ProtocolError', async () => {
    const { transport } = setup(service((sent) => json(sent, { jsonrpc: '2.0', id: sent.body?.['id'], error: { code: -32602, message: 'bad' } })));
    await transport.start();
    const error = await transport.request('tools/call', { name: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(-32602);
  });

  it('reads an event-stream answer: progress to the caller, a request relayed to its client and answered on the session', async () => {
    let call: Sent | undefined;
    const { link, transport } = setup((sent) => {
      if (sent.method === 'POST' && sent.body?.['method'] === 'tools/call') {
        call = sent;
        sseHead(sent);
        event(sent, { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 7, progress: 1, total: 2 } }, 'e1');
        event(sent, { jsonrpc: '2.0', id: 's1', method: 'sampling/createMessage', params: { messages: [] } }, 'e2');
      } else if (sent.method === 'POST' && sent.body?.['id'] === 's1' && call !== undefined) {
        accepted(sent);
        event(call, result(call, { content: [{ type: 'text', text: 'done' }] }), 'e3');
        call.events.end();
      } else service()(sent);
    });
    await transport.start();
    const downstream: Downstream = {
      request: vi.fn(async () => ({ model: 'm', content: { type: 'text', text: 'hi' } })),
      notify: vi.fn(async () => undefined),
    };
    const onprogress = vi.fn();
    const answer = await transport.request('tools/call', { name: 'x', _meta: { progressToken: 7 } }, { onprogress, downstream });
    expect(answer).toEqual({ content: [{ type: 'text', text: 'done' }] });
    expect(onprogress).toHaveBeenCalledWith({ progressToken: 7, progress: 1, total: 2 });
    expect(downstream.request).toHaveBeenCalledWith('sampling/createMessage', { messages: [] });
    const relayed = link.sent.find((sent) => sent.body?.['id'] === 's1');
    expect(relayed?.body).toEqual({ jsonrpc: '2.0', id: 's1', result: { model: 'm', content: { type: 'text', text: 'hi' } } });
    expect(relayed?.headers['mcp-session-id']).toBe('session-1');
  });

  it('says the session is lost: a request gets SessionLostError, a 404 with nobody waiting reports sessionLost once', async () => {
    const { transport, events } = setup(
      service((sent) => head(sent, 404)),
      {},
    );
    await transport.start();
    await expect(transport.request('tools/call', { name: 'x' })).rejects.toThrow(SessionLostError);
    expect(events.sessionLost).not.toHaveBeenCalled();

    const lost = setup((sent) => (sent.method === 'POST' && sent.body?.['method'] === 'notifications/roots/list_changed' ? head(sent, 404) : service()(sent)));
    await lost.transport.start();
    lost.transport.notify('notifications/roots/list_changed', undefined);
    lost.transport.notify('notifications/roots/list_changed', undefined);
    await tick();
    expect(lost.events.sessionLost).toHaveBeenCalledTimes(1);
  });

  /** A refusal with a body, the way servers in the field send one. */
  const refuse = (sent: Sent, status: number, body: string) => {
    head(sent, status, { 'content-type': 'application/json' });
    if (!sent.aborted) sent.events.data(Buffer.from(body));
    if (!sent.aborted) sent.events.end();
  };
  // server-everything's answer to a request on a session it does not know (it restarted).
  const NO_VALID_SESSION = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: 7 });

  it('knows a lost session from a 400 or 410 whose body names the session, and from nothing else', async () => {
    const everything = setup(service((sent) => refuse(sent, 400, NO_VALID_SESSION)));
    await everything.transport.start();
    await expect(everything.transport.request('tools/call', { name: 'x' })).rejects.toThrow(SessionLostError);

    const gone = setup(service((sent) => refuse(sent, 410, 'Session expired')));
    await gone.transport.start();
    await expect(gone.transport.request('tools/call', { name: 'x' })).rejects.toThrow(SessionLostError);

    const other = setup(
      service((sent) => refuse(sent, 400, JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Bad Request: body too large' }, id: 7 }))),
    );
    await other.transport.start();
    await expect(other.transport.request('tools/call', { name: 'x' })).rejects.toThrow(UpstreamHttpError);
  });

  it('reports sessionLost when the GET stream or an acknowledged message is refused with a body naming the session', async () => {
    const stream = setup(service(NOOP, { get: (sent) => refuse(sent, 400, NO_VALID_SESSION) }));
    await stream.transport.start();
    await tick();
    expect(stream.events.sessionLost).toHaveBeenCalledWith(expect.stringContaining('HTTP 400'));

    const ack = setup((sent) =>
      sent.method === 'POST' && sent.body?.['method'] === 'notifications/roots/list_changed' ? refuse(sent, 400, NO_VALID_SESSION) : service()(sent),
    );
    await ack.transport.start();
    ack.transport.notify('notifications/roots/list_changed', undefined);
    await tick();
    expect(ack.events.sessionLost).toHaveBeenCalledTimes(1);
  });

  it('reports sessionLost when the GET stream answers 404', async () => {
    const { transport, events } = setup(service(NOOP, { get: (sent) => head(sent, 404) }));
    await transport.start();
    await tick();
    expect(events.sessionLost).toHaveBeenCalledWith(expect.stringContaining('404'));
  });

  it('on its deadline, fails with a timeout, closes the request and sends notifications/cancelled', async () => {
    const { link, transport } = setup(service(sseHead));
    await transport.start();
    await expect(transport.request('tools/call', { name: 'slow' }, { timeoutMs: 10 })).rejects.toThrow(UpstreamTimeoutError);
    const call = link.posts('tools/call')[0];
    expect(call?.aborted).toBe(true);
    const [cancelled] = link.posts('notifications/cancelled');
    expect(cancelled?.body?.['params']).toEqual({ requestId: call?.body?.['id'], reason: "the gateway's deadline passed" });
  });

  it('progress extends the deadline', async () => {
    const { transport } = setup(
      service((sent) => {
        sseHead(sent);
        setTimeout(() => event(sent, { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } }), 15);
        setTimeout(() => event(sent, result(sent, { ok: true })), 30);
      }),
    );
    await transport.start();
    expect(await transport.request('tools/call', { name: 'x', _meta: { progressToken: 1 } }, { timeoutMs: 25 })).toEqual({ ok: true });
  });

  it("on the client's abort, fails with an AbortError and sends notifications/cancelled", async () => {
    const { link, transport } = setup(service(sseHead));
    await transport.start();
    const controller = new AbortController();
    const pending = transport.request('tools/call', { name: 'slow' }, { signal: controller.signal });
    await tick(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(link.posts('notifications/cancelled')[0]?.body?.['params']).toMatchObject({ reason: 'the client cancelled the request' });
  });

  it('routes what comes on the GET stream to its events, answers requests on the session, and reopens a dropped stream with Last-Event-ID', async () => {
    let gets = 0;
    const { link, transport, events } = setup(
      service(NOOP, {
        get: (sent) => {
          gets += 1;
          sseHead(sent);
          if (gets > 1) return;
          event(sent, { jsonrpc: '2.0', method: 'notifications/tools/list_changed' }, 'g1', 1);
          event(sent, { jsonrpc: '2.0', id: 'r1', method: 'roots/list' }, 'g2');
          sent.events.end();
        },
      }),
    );
    events.request.mockResolvedValue({ roots: [] });
    await transport.start();
    await tick(20);
    expect(events.notification).toHaveBeenCalledWith('notifications/tools/list_changed', {});
    expect(events.request).toHaveBeenCalledWith('roots/list', undefined);
    expect(link.sent.find((sent) => sent.body?.['id'] === 'r1')?.body).toEqual({ jsonrpc: '2.0', id: 'r1', result: { roots: [] } });
    const reopened = link.sent.filter((sent) => sent.method === 'GET')[1];
    expect(reopened?.headers['last-event-id']).toBe('g2');
  });

  it('answers a GET-stream request the events refuse with its JSON-RPC error', async () => {
    const { link, transport, events } = setup(
      service(NOOP, {
        get: (sent) => {
          sseHead(sent);
          event(sent, { jsonrpc: '2.0', id: 9, method: 'elicitation/create', params: {} });
        },
      }),
    );
    events.request.mockRejectedValue(new ProtocolError(-32600, 'nobody to ask'));
    await transport.start();
    await tick();
    expect(link.sent.find((sent) => sent.body?.['id'] === 9)?.body).toEqual({ jsonrpc: '2.0', id: 9, error: { code: -32600, message: 'nobody to ask' } });
  });

  it('refuses an answer over the size cap, and a redirect', async () => {
    const big = setup(
      service((sent) => json(sent, result(sent, { text: 'x'.repeat(500) }))),
      { maxResponseBytes: 300 },
    );
    await big.transport.start();
    await expect(big.transport.request('tools/call', { name: 'x' })).rejects.toThrow(/exceeds 300 bytes/);

    const moved = setup((sent) => head(sent, 307, { location: 'http://elsewhere.test/' }));
    await expect(moved.transport.start()).rejects.toThrow(/redirects are not followed/);
  });

  it('closes its link at once, or after the requests in flight with drain', async () => {
    const { link, transport } = setup(service());
    await transport.start();
    await transport.close(true);
    expect(link.closed).toBe('drain');
  });
});
