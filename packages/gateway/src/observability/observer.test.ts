import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { RequestContext } from '../federation/context.js';
import { Federation } from '../federation/federation.js';
import { MethodTable } from '../federation/methods.js';
import { Subscriptions } from '../federation/subscriptions.js';
import { Catalog, EMPTY_LISTINGS } from '../model/catalog.js';
import { MemoryStore } from '../registry/memory-store.js';
import type { Registry } from '../registry/registry.js';
import type { RequestOptions } from '../upstream/connection.js';
import { Observer } from './observer.js';
import { newRecord } from './record.js';
import { OBSERVABILITY_OFF, type ObservabilityConfig } from './settings.js';

const tool = (name: string) => ({ name, inputSchema: { type: 'object' as const } });
const catalog = Catalog.build([{ service: 'shop', listings: { ...EMPTY_LISTINGS, tools: [tool('find'), tool('fail')] }, origin: 'live' }]);
const logger = pino({ level: 'silent' });
const alice: GatewayIdentity = { name: 'alice', roles: new Set(['client']) };
const ON: ObservabilityConfig = {
  ...OBSERVABILITY_OFF,
  metrics: { enabled: true, token: undefined, port: undefined },
  audit: { ...OBSERVABILITY_OFF.audit, enabled: true },
};

type Sent = { params: Record<string, unknown> | undefined; options: RequestOptions };

function setup(config: ObservabilityConfig, answer: (sent: Sent) => Promise<Record<string, unknown>> = async () => ({ content: [] })) {
  const sent: Sent[] = [];
  const registry = {
    catalog,
    get: (name: string) =>
      name === 'shop'
        ? {
            connection: {
              request: (_method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}) => {
                sent.push({ params, options });
                return answer({ params, options });
              },
            },
          }
        : undefined,
    onStatusChange: () => () => undefined,
  } as unknown as Registry;
  const store = new MemoryStore();
  const sources = { sessions: () => 0, services: () => [], catalog: () => ({ tools: 2, prompts: 0, resources: 0, resourceTemplates: 0 }) };
  const observer = new Observer(config, store, sources, logger);
  const methods = new MethodTable(new Federation(registry, new Subscriptions(registry, logger), 1_000, observer), logger, observer);
  return { methods, observer, store, sent };
}

function ctx(method: string, overrides: Partial<RequestContext> = {}): RequestContext {
  return {
    identity: alice,
    requestId: 1,
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

const call = (methods: MethodTable, name: string, overrides: Partial<RequestContext> = {}) =>
  methods.answer(ctx('tools/call', overrides), { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { q: 1 } } });

describe('Observer on the method table', () => {
  it('labels calls by catalog tool, service and outcome, and never by a name the catalog lacks', async () => {
    const { methods, observer } = setup(ON, async ({ params }) => (params?.['name'] === 'fail' ? { isError: true, content: [] } : { content: [] }));
    await call(methods, 'find');
    await call(methods, 'fail');
    await call(methods, 'made-up-name');
    const text = (await observer.metrics?.scrape())?.body ?? '';
    expect(text).toContain('meshgate_requests_total{method="tools/call",tool="find",service="shop",outcome="ok"} 1');
    expect(text).toContain('meshgate_requests_total{method="tools/call",tool="fail",service="shop",outcome="tool_error"} 1');
    expect(text).toContain('meshgate_requests_total{method="tools/call",tool="(unknown)",service="",outcome="error"} 1');
    expect(text).not.toContain('made-up-name');
    expect(text).toContain('meshgate_requests_in_flight{method="tools/call"} 0');
    expect(text).toContain('meshgate_upstream_duration_seconds_count{method="tools/call",service="shop"} 2');
  });

  it('counts a call the client cancelled as cancelled', async () => {
    const cancel = new AbortController();
    const { methods, observer } = setup(ON, () => {
      cancel.abort();
      const error = new Error('aborted');
      error.name = 'AbortError';
      return Promise.reject(error);
    });
    expect(await call(methods, 'find', { signal: cancel.signal })).toBeUndefined();
    expect((await observer.metrics?.scrape())?.body).toContain('outcome="cancelled"} 1');
  });

  it('sends the request id upstream, and the client trace context in headers and _meta when not tracing', async () => {
    const { methods, sent } = setup(ON);
    const record = newRecord('req-9');
    record.traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    record.tracestate = 'v=1';
    await call(methods, 'find', { record });
    expect(sent[0]?.options.headers).toEqual({ 'x-request-id': 'req-9', traceparent: record.traceparent, tracestate: 'v=1' });
    expect(sent[0]?.params?.['_meta']).toEqual({ traceparent: record.traceparent, tracestate: 'v=1' });
    expect(record).toMatchObject({ tool: 'find', service: 'shop', identity: 'alice', method: 'tools/call' });
  });

  it('takes trace context from the header, else from _meta, and drops what is not W3C trace context', () => {
    const { observer } = setup(ON);
    const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const identify = (headers: Record<string, string>, meta?: Record<string, unknown>) => {
      const record = newRecord('r');
      observer.identify(record, { method: 'tools/call', params: meta === undefined ? {} : { _meta: meta } }, headers, '{}');
      return [record.traceparent, record.tracestate];
    };
    expect(identify({ traceparent: valid, tracestate: 'a=1' }, { traceparent: 'ignored' })).toEqual([valid, 'a=1']);
    expect(identify({}, { traceparent: valid, tracestate: 'b=2' })).toEqual([valid, 'b=2']);
    expect(identify({}, { traceparent: `${valid}\r\nx-injected: 1` })).toEqual([undefined, undefined]);
    expect(identify({}, { traceparent: valid, tracestate: 'bad\u0000state' })).toEqual([valid, undefined]);
    expect(identify({ traceparent: 'garbage' })).toEqual([undefined, undefined]);
  });

  it('audits calls with a digest of their arguments, who made them, and how they ended', async () => {
    const { methods, observer, store } = setup(ON);
    await call(methods, 'find', { record: newRecord('req-a') });
    await call(methods, 'nope');
    await observer.audit?.flush();
    const { entries } = await store.queryAudit({ limit: 10 });
    expect(entries).toMatchObject([
      { kind: 'tools/call', identity: 'alice', service: 'shop', target: 'find', outcome: 'ok', code: null, requestId: 'req-a' },
      { kind: 'tools/call', identity: 'alice', service: null, target: 'nope', outcome: 'error', code: '-32602' },
    ]);
    expect(entries[0]?.detail).toEqual({ argumentsDigest: expect.stringMatching(/^sha256:/) });
  });

  it('is out of the way when everything is off: no probe, nothing added but the request id', async () => {
    const { methods, observer, sent } = setup(OBSERVABILITY_OFF);
    expect(observer.method(ctx('tools/call'), undefined)).toBeUndefined();
    await call(methods, 'find');
    expect(sent[0]?.params).toEqual({ name: 'find', arguments: { q: 1 } });
    expect(observer.metrics).toBeUndefined();
    expect(observer.audit).toBeUndefined();
  });
});
