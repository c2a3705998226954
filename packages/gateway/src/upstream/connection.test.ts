import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UpstreamConnection } from './connection.js';
import type { Downstream } from './relay.js';
import type { CallOptions, TransportEvents, UpstreamHandshake, UpstreamTransport } from './transport.js';

const HANDSHAKE: UpstreamHandshake = {
  protocolVersion: '2025-11-25',
  capabilities: { tools: { listChanged: true } },
  serverInfo: { name: 'fake', version: '1' },
  instructions: 'use the tools',
};

/** A transport that answers lists at once and holds `tools/call` until the test lets it go. */
class FakeTransport implements UpstreamTransport {
  readonly requests: string[] = [];
  /** The params of every request, as the service would receive them. */
  readonly params: (Record<string, unknown> | undefined)[] = [];
  closed: boolean | undefined;
  release: (() => void) | undefined;
  /** Set to report the session lost while the connection is still listing this session. */
  loseWhileListing = false;
  constructor(readonly events: TransportEvents) {}

  async start(): Promise<UpstreamHandshake> {
    return HANDSHAKE;
  }

  request(method: string, params: Record<string, unknown> | undefined, _options?: CallOptions): Promise<Record<string, unknown>> {
    this.requests.push(method);
    this.params.push(params);
    if (method === 'tools/list' && this.loseWhileListing) this.events.sessionLost('lost while listing');
    if (method === 'tools/list') return Promise.resolve({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] });
    return new Promise((resolve) => {
      this.release = () => resolve({ content: [] });
    });
  }

  notify(): void {}

  async close(drain?: boolean): Promise<void> {
    this.closed = drain ?? false;
  }
}

const open: UpstreamConnection[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((connection) => connection.close()));
});

function connect(prepare: (transport: FakeTransport, index: number) => void = () => undefined) {
  const transports: FakeTransport[] = [];
  const onNotification = vi.fn();
  const connection = new UpstreamConnection({
    service: 'fake',
    // Nothing listens there: the /health lookup fails at once, so probes would ping.
    url: 'http://127.0.0.1:9/mcp',
    credential: { type: 'none' },
    gatewayToken: 'token',
    logger: pino({ level: 'silent' }),
    limits: { probeIntervalMs: 0, retryMinMs: 1, retryMaxMs: 5 },
    onListings: vi.fn(),
    onStatus: vi.fn(),
    onNotification,
    transportFactory: (_options, events) => {
      const transport = new FakeTransport(events);
      prepare(transport, transports.length);
      transports.push(transport);
      return transport;
    },
  });
  open.push(connection);
  return { connection, transports, onNotification };
}

describe('UpstreamConnection over its transport', () => {
  it('gives every call its own progress token upstream, and sends none for a call that cannot take progress', async () => {
    const { connection, transports } = connect();
    await connection.connectOnce();
    const call = (meta: Record<string, unknown>, onprogress?: () => void) =>
      void connection.request('tools/call', { name: 'echo', _meta: meta }, onprogress === undefined ? {} : { onprogress });
    call({ progressToken: 1 }, () => undefined);
    call({ progressToken: 1, traceparent: 't' }, () => undefined);
    call({ progressToken: 1 });
    await vi.waitFor(() => expect(transports[0]?.params.filter((p) => p?.['name'] === 'echo')).toHaveLength(3));
    const metas = transports[0]?.params.filter((p) => p?.['name'] === 'echo').map((p) => p?.['_meta']) as Record<string, unknown>[];
    const [first, second, third] = metas;
    expect(first?.['progressToken']).toMatch(/^meshgate-progress-\d+$/);
    expect(second?.['progressToken']).toMatch(/^meshgate-progress-\d+$/);
    expect(second?.['progressToken']).not.toBe(first?.['progressToken']);
    expect(second?.['traceparent']).toBe('t');
    expect(third).toEqual({});
  });

  it('connects through the factory and keeps what the handshake said', async () => {
    const { connection, transports } = connect();
    await connection.connectOnce();
    expect(connection.status).toBe('up');
    expect(connection.instructions).toBe('use the tools');
    expect(connection.capabilities).toEqual(HANDSHAKE.capabilities);
    expect(connection.listings?.tools).toHaveLength(1);
    expect(transports[0]?.requests).toEqual(['tools/list']);
  });

  it('re-lists on list_changed and passes resource updates and log messages on', async () => {
    const { connection, transports, onNotification } = connect();
    await connection.connectOnce();
    const refresh = vi.spyOn(connection, 'scheduleRefresh');
    const events = transports[0]?.events;
    events?.notification('notifications/tools/list_changed', {});
    expect(refresh).toHaveBeenCalled();
    events?.notification('notifications/resources/updated', { uri: 'a://b' });
    events?.notification('notifications/message', { level: 'info', data: 'x' });
    events?.notification('notifications/unknown', {});
    expect(onNotification.mock.calls).toEqual([
      ['notifications/resources/updated', { uri: 'a://b' }],
      ['notifications/message', { level: 'info', data: 'x' }],
    ]);
  });

  it("sends a service's request outside any call to the sole caller in flight, or answers for nobody", async () => {
    const { connection, transports } = connect();
    await connection.connectOnce();
    const events = transports[0]?.events as TransportEvents;
    await expect(events.request('roots/list', undefined)).resolves.toEqual({ roots: [] });
    await expect(events.request('sampling/createMessage', {})).rejects.toThrow(/only to the client of a call in flight/);
    await expect(events.request('ping', undefined)).resolves.toEqual({});

    const downstream: Downstream = { request: vi.fn(async () => ({ roots: [{ uri: 'file:///w' }] })), notify: vi.fn(async () => undefined) };
    const call = connection.request('tools/call', { name: 'echo' }, { downstream });
    await vi.waitFor(() => expect(transports[0]?.release).toBeDefined());
    await expect(events.request('roots/list', undefined)).resolves.toEqual({ roots: [{ uri: 'file:///w' }] });
    transports[0]?.release?.();
    await call;
    // The call is over: nobody to ask again.
    await expect(events.request('roots/list', undefined)).resolves.toEqual({ roots: [] });
  });

  it('on sessionLost, drops the session (letting its calls finish) and opens a new one at once, without going down', async () => {
    const { connection, transports } = connect();
    await connection.connectOnce();
    const statuses: string[] = [];
    transports[0]?.events.sessionLost('gone');
    expect(transports[0]?.closed).toBe(true);
    // A call made while the new session opens waits for it instead of failing.
    const call = connection.request('tools/call', { name: 'x' });
    await vi.waitFor(() => expect(transports[1]?.release).toBeDefined());
    transports[1]?.release?.();
    await expect(call).resolves.toEqual({ content: [] });
    statuses.push(connection.status);
    expect(statuses).toEqual(['up']);
    // A late report from the old session changes nothing.
    transports[0]?.events.sessionLost('gone again');
    expect(connection.status).toBe('up');
  });

  it('a loss reported while the session was still being listed is not missed: a new session is opened', async () => {
    const { connection, transports } = connect((transport, index) => {
      transport.loseWhileListing = index === 0;
    });
    await connection.connectOnce();
    await vi.waitFor(() => expect(transports).toHaveLength(2));
    expect(transports[0]?.closed).toBe(true);
    await vi.waitFor(() => expect(connection.status).toBe('up'));
  });
});
