import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracedBackend, type TracedBackend } from '../fixtures/traced-backend.js';
import { eventually, rpc, startGateway, TOKEN, tempDbPath, waitUntilUp } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const otlpValue = (value: OtlpValue) =>
  value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue)) ?? value.boolValue ?? value.doubleValue;

/** An OTLP/HTTP receiver of JSON trace exports: what a collector would get. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; server: Server }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      expect(request.url).toBe('/v1/traces');
      expect(request.headers['content-type']).toContain('application/json');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const resource of body.resourceSpans ?? []) {
        const service = otlpValue(resource.resource.attributes.find((a: { key: string }) => a.key === 'service.name').value);
        for (const scope of resource.scopeSpans ?? [])
          for (const span of scope.spans ?? [])
            spans.push({
              service: String(service),
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: span.kind,
              attributes: Object.fromEntries(span.attributes.map((a: { key: string; value: OtlpValue }) => [a.key, otlpValue(a.value)])),
            });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

describe('observability: OpenTelemetry traces of a federated call', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let backend: TracedBackend;
  let gateway: StartedProcess;

  beforeAll(async () => {
    receiver = await startReceiver();
    backend = await startTracedBackend(`${receiver.url}/v1/traces`);
    const configPath = `${tempDbPath()}.json`;
    writeFileSync(configPath, JSON.stringify({ services: [{ name: 'traced-svc', url: backend.url }] }));
    gateway = await startGateway({
      MESHGATE_CONFIG: configPath,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'gateway-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await waitUntilUp(gateway.url, ['traced-svc']);
  });
  afterAll(async () => {
    await gateway?.stop();
    await backend?.close();
    receiver?.server.close();
  });

  it('joins the client trace from the traceparent header: server span, client span, backend span', async () => {
    const traceparent = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
    const call = await rpc(gateway.url, 'tools/call', { name: 'traced', arguments: {} }, { headers: { traceparent, 'x-request-id': 'trace-req-1' } });
    expect(call.body.result.structuredContent.header).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    // The same context goes in params._meta, for services that read it there.
    expect(call.body.result.structuredContent.meta).toBe(call.body.result.structuredContent.header);
    expect(backend.seen.at(-1)?.headers['x-request-id']).toBe('trace-req-1');

    const tree = await eventually('three spans of the trace', async () => {
      const inTrace = receiver.spans.filter((span) => span.traceId === TRACE_ID);
      return inTrace.length >= 3 ? inTrace : undefined;
    });
    const server = tree.find((span) => span.service === 'gateway-under-test' && span.kind === 2);
    const client = tree.find((span) => span.service === 'gateway-under-test' && span.kind === 3);
    const work = tree.find((span) => span.service === 'traced-backend');
    expect(server).toMatchObject({
      name: 'tools/call',
      parentSpanId: CLIENT_SPAN,
      attributes: { 'mcp.method.name': 'tools/call', 'mcp.tool.name': 'traced', 'meshgate.service': 'traced-svc', 'mcp.outcome': 'ok' },
    });
    expect(client).toMatchObject({
      parentSpanId: server?.spanId,
      attributes: { 'meshgate.service': 'traced-svc', 'mcp.tool.name': 'traced', 'mcp.outcome': 'ok' },
    });
    expect(work?.parentSpanId).toBe(client?.spanId);
    expect(call.body.result.structuredContent.header).toBe(`00-${TRACE_ID}-${client?.spanId}-01`);
  });

  it('takes the trace context from params._meta in a session, and names the session', async () => {
    const traceId = 'aaaabbbbccccddddeeeeffff00001111';
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}` };
    const init = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    const session = init.headers.get('mcp-session-id') as string;
    const call = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, accept: 'application/json', 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'traced', arguments: {}, _meta: { traceparent: `00-${traceId}-1111222233334444-01`, tracestate: 'vendor=x' } },
      }),
    });
    const body = await call.json();
    expect(body.result.structuredContent.meta).toMatch(new RegExp(`^00-${traceId}-`));
    expect(backend.seen.at(-1)?.headers.tracestate).toBe('vendor=x');
    const server = await eventually('the session call server span', async () =>
      receiver.spans.find((span) => span.traceId === traceId && span.service === 'gateway-under-test' && span.kind === 2),
    );
    expect(server).toMatchObject({ parentSpanId: '1111222233334444', attributes: { 'mcp.session.id': session } });
    expect(receiver.spans.some((span) => span.traceId === traceId && span.service === 'traced-backend')).toBe(true);
  });
});
