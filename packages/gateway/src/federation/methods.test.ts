import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { AllowList } from '../auth/allow-list.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { Catalog, EMPTY_LISTINGS } from '../model/catalog.js';
import type { Registry } from '../registry/registry.js';
import type { RequestOptions } from '../upstream/connection.js';
import type { RequestContext, SessionScope } from './context.js';
import { Federation } from './federation.js';
import { MethodTable } from './methods.js';
import { MAX_SUBSCRIPTIONS_PER_SESSION, Subscriptions } from './subscriptions.js';
import { VirtualServer } from './virtual-servers.js';

const tool = (name: string) => ({ name, inputSchema: { type: 'object' as const } });
const catalog = Catalog.build([
  { service: 'shop', listings: { ...EMPTY_LISTINGS, tools: [tool('find'), tool('buy')] }, origin: 'live' },
  { service: 'users', listings: { ...EMPTY_LISTINGS, tools: [tool('find'), tool('whoami')] }, origin: 'live' },
]);

type Sent = { service: string; method: string; params: Record<string, unknown> | undefined; options: RequestOptions };

/** A registry whose services answer through `answer`, recording what was sent to which. */
function fakeRegistry(answer: (sent: Sent) => Promise<Record<string, unknown>> = async () => ({ content: [] })) {
  const sent: Sent[] = [];
  const connection = (service: string) => ({
    request: (method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}) => {
      const entry = { service, method, params, options };
      sent.push(entry);
      return answer(entry);
    },
  });
  const registry = {
    catalog,
    get: (name: string) => (['shop', 'users'].includes(name) ? { connection: connection(name) } : undefined),
    onStatusChange: () => () => undefined,
  } as unknown as Registry;
  return { registry, sent };
}

const logger = pino({ level: 'silent' });
const admin: GatewayIdentity = { name: 'admin', roles: new Set(['admin', 'client']) };

function table(answer?: (sent: Sent) => Promise<Record<string, unknown>>) {
  const { registry, sent } = fakeRegistry(answer);
  const errorLog = vi.spyOn(logger, 'error');
  return { methods: new MethodTable(new Federation(registry, new Subscriptions(registry, logger), 1_000), logger), sent, errorLog };
}

function ctx(method: string, overrides: Partial<RequestContext> = {}): RequestContext {
  return {
    identity: admin,
    requestId: 7,
    method,
    catalog,
    signal: undefined,
    downstream: undefined,
    progressToken: undefined,
    traceparent: undefined,
    session: undefined,
    ...overrides,
  };
}

const ask = (methods: MethodTable, method: string, params?: Record<string, unknown>, overrides: Partial<RequestContext> = {}) =>
  methods.answer(ctx(method, overrides), { jsonrpc: '2.0', id: 7, method, ...(params === undefined ? {} : { params }) });

describe('the method table', () => {
  it('answers ping and lists the federated catalog, a clash qualified', async () => {
    const { methods } = table();
    expect(await ask(methods, 'ping')).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    const listed = await ask(methods, 'tools/list');
    expect((listed as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name)).toEqual(['find', 'buy', 'users__find', 'whoami']);
  });

  it('routes tools/call to the owning service under its upstream name, arguments untouched', async () => {
    const { methods, sent } = table(async () => ({ content: [{ type: 'text', text: 'ok' }] }));
    const answer = await ask(methods, 'tools/call', { name: 'users__find', arguments: { id: 1 } });
    expect(answer).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'ok' }] } });
    expect(sent).toMatchObject([{ service: 'users', method: 'tools/call', params: { name: 'find', arguments: { id: 1 } } }]);
  });

  it('hides what an allow-list excludes: not listed, and a call is an unknown tool (-32602)', async () => {
    const { methods, sent } = table();
    const limited: GatewayIdentity = { name: 'limited', roles: new Set(['client']), allowList: new AllowList(['whoami']) };
    const listed = await ask(methods, 'tools/list', undefined, { identity: limited });
    expect((listed as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name)).toEqual(['whoami']);
    const refused = await ask(methods, 'tools/call', { name: 'buy' }, { identity: limited });
    expect(refused?.error).toMatchObject({ code: -32602, message: expect.stringContaining('Unknown tool "buy"') });
    expect(sent).toEqual([]);
  });

  it('an unknown method is -32601; a method whose capability the session was not offered is unknown to it', async () => {
    const { methods } = table();
    expect((await ask(methods, 'tools/nope'))?.error).toMatchObject({ code: -32601 });
    const session = { offered: { tools: {} } } as unknown as SessionScope;
    expect((await ask(methods, 'prompts/list', undefined, { session }))?.error).toMatchObject({ code: -32601 });
    expect((await ask(methods, 'prompts/list'))?.result).toEqual({ prompts: [] });
  });

  it('logging/setLevel sets the session level and refuses an unknown level', async () => {
    const { methods } = table();
    const session = { offered: { tools: {}, logging: {} }, logLevel: undefined } as unknown as SessionScope;
    expect((await ask(methods, 'logging/setLevel', { level: 'warning' }, { session }))?.result).toEqual({});
    expect(session.logLevel).toBe('warning');
    expect((await ask(methods, 'logging/setLevel', { level: 'loud' }, { session }))?.error).toMatchObject({ code: -32602 });
  });

  it('resources/subscribe without a session is -32600', async () => {
    const { methods } = table();
    expect((await ask(methods, 'resources/subscribe', { uri: 'x://y' }))?.error).toMatchObject({ code: -32600, message: expect.stringContaining('session') });
  });

  it('maps failures once: a gateway error by the catalogue, a service error unchanged, anything else -32603 and logged', async () => {
    const service = table(async () => {
      throw Object.assign(new Error('no such thing'), { name: 'ProtocolError', code: -32050, data: { why: 'x' } });
    });
    expect((await ask(service.methods, 'tools/call', { name: 'buy' }))?.error).toEqual({ code: -32050, message: 'no such thing', data: { why: 'x' } });
    const gateway = table(async () => {
      throw new GatewayError('upstream_timeout', 'Service "shop" did not answer tools/call in time', { service: 'shop' });
    });
    expect((await ask(gateway.methods, 'tools/call', { name: 'buy' }))?.error).toMatchObject({ code: -32012, data: { service: 'shop' } });
    const broken = table(async () => {
      throw new TypeError('secret internals');
    });
    expect((await ask(broken.methods, 'tools/call', { name: 'buy' }))?.error).toEqual({ code: -32603, message: 'Internal error' });
    expect(broken.errorLog).toHaveBeenCalled();
  });

  it('a cancelled call gets no answer; progress reaches the downstream under the client token', async () => {
    const cancel = new AbortController();
    const { methods, sent } = table(async ({ options }) => {
      // As the transport hands it over: with the token the connection gave the service, which the client must not see.
      options.onprogress?.({ progress: 1, total: 2, progressToken: 'meshgate-progress-7' } as { progress: number; total: number });
      cancel.abort();
      throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    });
    const notified: unknown[] = [];
    const downstream = { request: async () => ({}), notify: async (method: string, params: unknown) => void notified.push([method, params]) };
    const answer = await ask(methods, 'tools/call', { name: 'buy' }, { signal: cancel.signal, downstream, progressToken: 'p' });
    expect(answer).toBeUndefined();
    expect(notified).toEqual([['notifications/progress', { progressToken: 'p', progress: 1, total: 2 }]]);
    expect(sent[0]?.options.signal).toBe(cancel.signal);
  });

  it('a search-mode virtual server: lists its two tools, searches its view, and call_tool is the tools/call it names (progress, cancellation)', async () => {
    const server = new VirtualServer({ name: 'finder', tools: ['shop__*'], mode: 'search', source: 'config', createdAt: '', updatedAt: '' });
    const scope = server.scope(catalog);
    const cancel = new AbortController();
    const { methods, sent } = table(async ({ options }) => {
      options.onprogress?.({ progress: 1, progressToken: 'meshgate-progress-7' } as { progress: number });
      return { content: [{ type: 'text', text: 'bought' }] };
    });
    type Answer = { result?: { tools?: { name: string }[]; structuredContent?: { tools: { name: string }[] } }; error?: { message: string } };
    const listed = (await ask(methods, 'tools/list', {}, scope)) as Answer;
    expect(listed.result?.tools?.map((t) => t.name)).toEqual(['search_tools', 'call_tool']);
    const found = (await ask(methods, 'tools/call', { name: 'search_tools', arguments: { query: 'buy' } }, scope)) as Answer;
    expect(found.result?.structuredContent?.tools.map((t) => t.name)).toEqual(['buy']);
    // "whoami" is users', outside the view: not found by search, unknown to call_tool.
    const outside = (await ask(methods, 'tools/call', { name: 'search_tools', arguments: { query: 'whoami' } }, scope)) as Answer;
    expect(outside.result?.structuredContent?.tools).toEqual([]);
    expect((await ask(methods, 'tools/call', { name: 'call_tool', arguments: { name: 'whoami' } }, scope))?.error?.message).toMatch(/Unknown tool "whoami"/);
    const notified: unknown[] = [];
    const downstream = { request: async () => ({}), notify: async (method: string, params: unknown) => void notified.push([method, params]) };
    const called = await ask(
      methods,
      'tools/call',
      { name: 'call_tool', arguments: { name: 'buy', arguments: { n: 1 } }, _meta: { progressToken: 'p' } },
      {
        ...scope,
        signal: cancel.signal,
        downstream,
        progressToken: 'p',
      },
    );
    expect(called?.result).toEqual({ content: [{ type: 'text', text: 'bought' }] });
    expect(sent.at(-1)).toMatchObject({ service: 'shop', method: 'tools/call', params: { name: 'buy', arguments: { n: 1 }, _meta: { progressToken: 'p' } } });
    expect(sent.at(-1)?.options.signal).toBe(cancel.signal);
    expect(notified).toEqual([['notifications/progress', { progressToken: 'p', progress: 1 }]]);
  });

  it('a session holds at most MAX_SUBSCRIPTIONS_PER_SESSION resource subscriptions; past it, -32600 and nothing is sent upstream', async () => {
    const { methods, sent } = table(async () => ({}));
    const withTemplate = Catalog.build([
      { service: 'shop', listings: { ...EMPTY_LISTINGS, resourceTemplates: [{ uriTemplate: 'items://{id}', name: 'items' }] }, origin: 'live' },
    ]);
    const session = { subscribed: new Map(), resourceUpdated: () => undefined } as unknown as SessionScope;
    const subscribe = (id: number) => ask(methods, 'resources/subscribe', { uri: `items://${id}` }, { session, catalog: withTemplate });
    for (let id = 0; id < MAX_SUBSCRIPTIONS_PER_SESSION; id += 1) expect((await subscribe(id))?.error).toBeUndefined();
    const upstream = sent.length;
    expect((await subscribe(-1))?.error).toMatchObject({ code: -32600, message: expect.stringContaining('resource subscriptions') });
    expect(sent.length).toBe(upstream);
    expect((await subscribe(0))?.error).toBeUndefined(); // one it holds already: no new state
  });
});
