import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { GatewayIdentity } from '../auth/tokens.js';
import { Federation } from '../federation/federation.js';
import { MethodTable } from '../federation/methods.js';
import { Subscriptions } from '../federation/subscriptions.js';
import { Catalog, EMPTY_LISTINGS } from '../model/catalog.js';
import type { Registry } from '../registry/registry.js';
import type { RequestOptions } from '../upstream/connection.js';
import { Dispatcher } from './dispatch.js';
import { SessionRegistry } from './registry.js';
import { MAX_PENDING_RELAYS, type Outbox } from './session.js';

const logger = pino({ level: 'silent' });
const catalog = Catalog.build([{ service: 'svc', listings: { ...EMPTY_LISTINGS, tools: [{ name: 'ask', inputSchema: { type: 'object' } }] }, origin: 'live' }]);
const identity: GatewayIdentity = { name: 'alice', roles: new Set(['client']) };

/** A dispatcher over one service whose `tools/call` runs `call` with the options the gateway passes. */
function setup(call: (options: RequestOptions) => Promise<Record<string, unknown>>, clientCapabilities: Record<string, unknown> = {}) {
  const registry = {
    catalog,
    get: () => ({ connection: { request: (_m: string, _p: unknown, options: RequestOptions = {}) => call(options) } }),
    onStatusChange: () => () => undefined,
  } as unknown as Registry;
  const methods = new MethodTable(new Federation(registry, new Subscriptions(registry, logger)), logger);
  const sessions = new SessionRegistry({}, logger);
  const session = sessions.open(identity, { protocolVersion: '2025-06-18', clientCapabilities, offered: { tools: {} } });
  const sent: unknown[] = [];
  const outbox: Outbox = {
    notify: (method, params) => void sent.push({ method, params }),
    request: (id, method, params) => sent.push({ id, method, params }) > 0,
    close: () => undefined,
    connected: true,
  };
  return { dispatcher: new Dispatcher(methods, () => catalog), session, sessions, sent, outbox };
}

const call = (id: number) => ({ jsonrpc: '2.0' as const, id, method: 'tools/call', params: { name: 'ask' } });
const meta = { identity, traceparent: undefined };

describe('Dispatcher in a session', () => {
  it("relays a service's sampling request to the client and completes the call with the client's answer", async () => {
    const { dispatcher, session, sent, outbox } = setup(
      async (options) => ({ content: [{ type: 'text', text: String((await options.downstream?.request('sampling/createMessage', { q: 1 }))?.['answer']) }] }),
      { sampling: {} },
    );
    const answering = dispatcher.inSession(session, call(1), outbox, meta);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([{ id: 'meshgate-relay-1', method: 'sampling/createMessage', params: { q: 1 } }]);
    dispatcher.take(session, { jsonrpc: '2.0', id: 'meshgate-relay-1', result: { answer: 'yes' } });
    expect(await answering).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'yes' }] } });
    expect(session.calls.size).toBe(0);
  });

  it('refuses a relayed request the client did not declare; roots/list answers no roots', async () => {
    const { dispatcher, session, outbox } = setup(async (options) => {
      const roots = await options.downstream?.request('roots/list', undefined);
      await options.downstream?.request('elicitation/create', {}).catch((error: Error) => ({ refused: error.message }));
      return { roots };
    });
    expect(await dispatcher.inSession(session, call(1), outbox, meta)).toMatchObject({ result: { roots: { roots: [] } } });
  });

  it('notifications/cancelled aborts the call: no answer is due, and its unanswered relay is cancelled on the stream', async () => {
    const { dispatcher, session, sent, outbox } = setup(
      (options) =>
        new Promise((_, reject) => {
          void options.downstream?.request('sampling/createMessage', {}).catch(() => undefined);
          options.signal?.addEventListener('abort', () => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' })));
        }),
      { sampling: {} },
    );
    const answering = dispatcher.inSession(session, call(3), outbox, meta);
    await new Promise((resolve) => setImmediate(resolve));
    dispatcher.take(session, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } });
    expect(await answering).toBeUndefined();
    expect(sent.at(-1)).toEqual({ method: 'notifications/cancelled', params: { requestId: 'meshgate-relay-1', reason: 'the call ended' } });
    expect(session.relays.size).toBe(0);
  });

  it('a second request under an id already in flight is refused, and the first goes on', async () => {
    let finish: (value: Record<string, unknown>) => void = () => undefined;
    const { dispatcher, session, outbox } = setup(() => new Promise((resolve) => (finish = resolve)));
    const first = dispatcher.inSession(session, call(5), outbox, meta);
    const second = await dispatcher.inSession(session, call(5), outbox, meta);
    expect(second?.error).toMatchObject({ code: -32600 });
    finish({ content: [] });
    expect(await first).toEqual({ jsonrpc: '2.0', id: 5, result: { content: [] } });
  });

  it('log messages below the level the session asked for are dropped', async () => {
    const { dispatcher, session, sent, outbox } = setup(async (options) => {
      await options.downstream?.notify('notifications/message', { level: 'debug', data: 'quiet' });
      await options.downstream?.notify('notifications/message', { level: 'error', data: 'loud' });
      return { content: [] };
    });
    session.logLevel = 'warning';
    await dispatcher.inSession(session, call(1), outbox, meta);
    expect(sent).toEqual([{ method: 'notifications/message', params: { level: 'error', data: 'loud' } }]);
  });

  it('relayed requests a client leaves unanswered are capped per session: past the cap a service is refused at once', async () => {
    const { dispatcher, session, sent, outbox } = setup(
      async (options) => {
        const asks = Array.from({ length: MAX_PENDING_RELAYS + 5 }, () =>
          options.downstream?.request('sampling/createMessage', {}).then(
            () => 'answered',
            (error: Error) => error.message,
          ),
        );
        const refused = await Promise.race([Promise.all(asks.slice(MAX_PENDING_RELAYS)), new Promise((resolve) => setTimeout(resolve, 5_000, 'waited'))]);
        return { content: [{ type: 'text', text: JSON.stringify(refused) }] };
      },
      { sampling: {} },
    );
    const answer = await dispatcher.inSession(session, call(1), outbox, meta);
    expect(sent.filter((message) => (message as { id?: string }).id !== undefined)).toHaveLength(MAX_PENDING_RELAYS);
    const content = (answer?.result as { content?: Array<{ text: string }> } | undefined)?.content ?? [];
    const refused = JSON.parse(content[0]?.text ?? '[]') as string[];
    expect(refused).toHaveLength(5);
    for (const reason of refused) expect(reason).toMatch(/requests unanswered/);
    expect(session.relays.size).toBe(0);
  });
});
