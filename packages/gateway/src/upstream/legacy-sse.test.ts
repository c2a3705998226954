import { ProtocolError } from '@modelcontextprotocol/client';
import { describe, expect, it, vi } from 'vitest';
import { InvalidAnswerError, SessionLostError, UpstreamHttpError, UpstreamTimeoutError } from './errors.js';
import type { Exchange, ExchangeEvents, HttpLink } from './exchange.js';
import { LegacySseTransport, resolveEndpoint } from './legacy-sse.js';
import type { TransportEvents, TransportLimits } from './transport.js';

/**
 * The HTTP+SSE transport against a scripted service: the GET stream is held open by the
 * test, which writes events to it; POSTs are acknowledged (or refused) and recorded.
 */
class ScriptedService {
  stream: ExchangeEvents | undefined;
  streamAborted = false;
  readonly posts: { url: string; body: Record<string, unknown> }[] = [];
  /** Status of each POST's acknowledgement. */
  ackStatus = 202;
  /** Answers initialize on the stream unless told not to. */
  answerInitialize = true;

  link = (url: URL): HttpLink => ({
    send: (method, _headers, body, events) => {
      const exchange: Exchange = {
        abort: () => {
          if (method === 'GET') this.streamAborted = true;
        },
        closeWithin: () => undefined,
      };
      queueMicrotask(() => {
        if (method === 'GET') {
          this.stream = events;
          events?.head(200, 'OK', { 'content-type': 'text/event-stream' });
          this.write('endpoint', '/messages?sessionId=s1');
          return;
        }
        const message = JSON.parse(body ?? '{}') as Record<string, unknown>;
        this.posts.push({ url: url.toString(), body: message });
        events?.head(this.ackStatus, this.ackStatus === 202 ? 'Accepted' : 'Nope', {});
        events?.end();
        if (message['method'] === 'initialize' && this.answerInitialize) {
          this.send({
            jsonrpc: '2.0',
            id: message['id'],
            result: { protocolVersion: '2024-11-05', capabilities: { tools: {} }, serverInfo: { name: 'old', version: '1' } },
          });
        }
      });
      return exchange;
    },
    close: () => undefined,
  });

  write(event: string, data: string): void {
    this.stream?.data(Buffer.from(`event: ${event}\ndata: ${data}\n\n`));
  }

  send(message: unknown): void {
    this.write('message', JSON.stringify(message));
  }

  /** The id of the last request POSTed for `method`. */
  idOf(method: string): unknown {
    return this.posts.filter((post) => post.body['method'] === method).at(-1)?.body['id'];
  }
}

const LIMITS: TransportLimits = { connectMs: 500, requestMs: 200, maxRequestMs: 1_000, maxResponseBytes: 10_000 };
const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

function events(): TransportEvents & { lost: string[] } {
  const lost: string[] = [];
  return {
    lost,
    notification: vi.fn(),
    request: vi.fn(async () => ({ answered: true })),
    sessionLost: (reason) => void lost.push(reason),
  };
}

async function started(service = new ScriptedService(), heard = events()) {
  const transport = new LegacySseTransport({ service: 'old', url: 'http://127.0.0.1:4000/sse', headers: {}, limits: LIMITS, link: service.link }, heard);
  const handshake = await transport.start();
  return { transport, service, heard, handshake };
}

describe('LegacySseTransport', () => {
  it('opens the session: endpoint, initialize answered on the stream, then initialized, all POSTed to the endpoint', async () => {
    const { handshake, service } = await started();
    expect(handshake).toMatchObject({ protocolVersion: '2024-11-05', serverInfo: { name: 'old' } });
    expect(service.posts.map((post) => [post.url, post.body['method']])).toEqual([
      ['http://127.0.0.1:4000/messages?sessionId=s1', 'initialize'],
      ['http://127.0.0.1:4000/messages?sessionId=s1', 'notifications/initialized'],
    ]);
  });

  it('matches answers by id, forwards JSON-RPC errors, and extends the deadline on progress', async () => {
    const { transport, service } = await started();
    vi.useFakeTimers();
    try {
      const onprogress = vi.fn();
      const call = transport.request('tools/call', { name: 'slow', _meta: { progressToken: 7 } }, { onprogress });
      const other = transport.request('tools/list', undefined);
      await vi.advanceTimersByTimeAsync(1);
      service.send({ jsonrpc: '2.0', id: service.idOf('tools/list'), error: { code: -32602, message: 'bad' } });
      await expect(other).rejects.toBeInstanceOf(ProtocolError);
      // 450 ms in all, past the 200 ms deadline: each progress restarts it.
      for (let i = 0; i < 3; i += 1) {
        await vi.advanceTimersByTimeAsync(150);
        service.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 7, progress: i } });
      }
      service.send({ jsonrpc: '2.0', id: service.idOf('tools/call'), result: { content: [] } });
      await expect(call).resolves.toEqual({ content: [] });
      expect(onprogress).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('progress does not extend a request past the absolute maximum', async () => {
    const { transport, service } = await started();
    vi.useFakeTimers();
    try {
      const call = transport.request('tools/call', { name: 'slow', _meta: { progressToken: 8 } });
      const outcome = call.then(
        () => 'answered',
        (error: Error) => error.name,
      );
      for (let i = 0; i < 10; i += 1) {
        await vi.advanceTimersByTimeAsync(150);
        service.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 8, progress: i } });
      }
      expect(await outcome).toBe('UpstreamTimeoutError'); // maxRequestMs is 1,000
    } finally {
      vi.useRealTimers();
    }
  });

  it('times out a request without an answer and tells the service it is cancelled', async () => {
    const { transport, service } = await started();
    await expect(transport.request('tools/call', { name: 'never' })).rejects.toBeInstanceOf(UpstreamTimeoutError);
    await tick();
    expect(service.posts.at(-1)?.body).toMatchObject({ method: 'notifications/cancelled', params: { requestId: service.idOf('tools/call') } });
  });

  it("relays the service's requests and answers them on the endpoint", async () => {
    const { service, heard } = await started();
    service.send({ jsonrpc: '2.0', id: 'srv-1', method: 'sampling/createMessage', params: { maxTokens: 1 } });
    await tick();
    expect(heard.request).toHaveBeenCalledWith('sampling/createMessage', { maxTokens: 1 });
    expect(service.posts.at(-1)?.body).toEqual({ jsonrpc: '2.0', id: 'srv-1', result: { answered: true } });
  });

  it('a dropped stream fails the requests waiting with SessionLostError and reports the loss once', async () => {
    const { transport, service, heard } = await started();
    const call = transport.request('tools/call', { name: 'x' });
    await tick();
    service.stream?.end();
    await expect(call).rejects.toBeInstanceOf(SessionLostError);
    service.stream?.error(new Error('again'));
    expect(heard.lost).toEqual(['service "old" closed its event stream']);
    await expect(transport.request('ping', undefined)).rejects.toBeInstanceOf(SessionLostError);
  });

  it('a refused POST fails its request with the status', async () => {
    const { transport, service } = await started();
    service.ackStatus = 500;
    await expect(transport.request('tools/call', { name: 'x' })).rejects.toBeInstanceOf(UpstreamHttpError);
  });

  it('close(true) keeps the stream until the requests in flight are answered', async () => {
    const { transport, service } = await started();
    const call = transport.request('tools/call', { name: 'x' });
    await tick();
    let closed = false;
    const closing = transport.close(true).then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    expect(service.streamAborted).toBe(false);
    service.send({ jsonrpc: '2.0', id: service.idOf('tools/call'), result: { ok: true } });
    await expect(call).resolves.toEqual({ ok: true });
    await closing;
    expect(service.streamAborted).toBe(true);
  });

  it('an event over the size cap ends the stream before the endpoint is known: start fails', async () => {
    const service = new ScriptedService();
    const link = service.link;
    service.link = (url) => {
      const inner = link(url);
      return {
        ...inner,
        send: (method, headers, body, events) => {
          if (method !== 'GET') return inner.send(method, headers, body, events);
          queueMicrotask(() => {
            events?.head(200, 'OK', { 'content-type': 'text/event-stream' });
            events?.data(Buffer.from(`event: endpoint\ndata: ${'x'.repeat(LIMITS.maxResponseBytes + 1)}`));
          });
          return { abort: () => undefined, closeWithin: () => undefined };
        },
      };
    };
    await expect(started(service)).rejects.toThrow(/exceeds 10000 bytes/);
  });

  it('a service that names no endpoint in time fails start with a timeout', async () => {
    const service = new ScriptedService();
    service.link = () => ({
      send: (_method, _headers, _body, events) => {
        queueMicrotask(() => events?.head(200, 'OK', { 'content-type': 'text/event-stream' }));
        return { abort: () => undefined, closeWithin: () => undefined };
      },
      close: () => undefined,
    });
    await expect(started(service)).rejects.toBeInstanceOf(UpstreamTimeoutError);
  });

  it('a redirect or a page that is not an event stream fails start', async () => {
    for (const [status, type, error] of [
      [302, 'text/html', InvalidAnswerError],
      [200, 'text/html', InvalidAnswerError],
      [404, 'text/html', UpstreamHttpError],
    ] as const) {
      const service = new ScriptedService();
      service.link = () => ({
        send: (_method, _headers, _body, events) => {
          queueMicrotask(() => {
            events?.head(status, '', { 'content-type': type });
            events?.end();
          });
          return { abort: () => undefined, closeWithin: () => undefined };
        },
        close: () => undefined,
      });
      await expect(started(service)).rejects.toBeInstanceOf(error);
    }
  });
});

const SSE = new URL('http://127.0.0.1:4000/sse');

describe('resolveEndpoint: where the endpoint event may send the gateway', () => {
  it.each([
    ['/messages?sessionId=abc', 'http://127.0.0.1:4000/messages?sessionId=abc'],
    ['messages?sessionId=abc', 'http://127.0.0.1:4000/messages?sessionId=abc'],
    ['http://127.0.0.1:4000/rpc#frag', 'http://127.0.0.1:4000/rpc'],
    ['  /messages  ', 'http://127.0.0.1:4000/messages'],
  ])('takes %j on the same origin as %s', (data, expected) => {
    const resolved = resolveEndpoint('svc', SSE, data);
    expect(resolved.ok && resolved.url.toString()).toBe(expected);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data',
    'https://127.0.0.1:4000/messages',
    'http://127.0.0.1:4001/messages',
    '//evil.example/messages',
    'http://localhost:4000/messages',
  ])('refuses %j on another origin, naming the service', (data) => {
    const resolved = resolveEndpoint('svc', SSE, data);
    expect(resolved).toMatchObject({ ok: false, reason: expect.stringContaining('service "svc" named a message endpoint on another origin') });
  });

  it.each(['', '   ', `/${'x'.repeat(3000)}`, 'http://[::1'])('refuses %j as not a usable URL', (data) => {
    expect(resolveEndpoint('svc', SSE, data.slice(0, 4000))).toMatchObject({ ok: false, reason: expect.stringContaining('not a usable URL') });
  });
});
