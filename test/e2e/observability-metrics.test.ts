import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Mesh, rpc, SHOPPING_ENTRY, startGateway, startMesh, TOKEN } from '../helpers/mesh.js';
import { freePort, startProcess } from '../helpers/process.js';

/** One sample of the metrics text, by name and exact label set; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('observability: /metrics and the access log', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh({ LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await mesh?.gateway.stop();
    await Promise.all([mesh?.shopping.stop(), mesh?.user.stop()]);
  });

  it('counts calls by method, catalog tool, service and outcome; an unknown tool is one fixed label', async () => {
    const call = await rpc(mesh.gateway.url, 'tools/call', { name: 'getProductById', arguments: { id: '123' } }, { headers: { 'x-request-id': 'req-abc-1' } });
    expect(call.body.result).toBeDefined();
    expect(call.headers.get('x-request-id')).toBe('req-abc-1');
    for (const name of ['no-such-tool-1', 'no-such-tool-2']) {
      const unknown = await rpc(mesh.gateway.url, 'tools/call', { name, arguments: {} });
      expect(unknown.body.error.code).toBe(-32602);
    }
    expect((await rpc(mesh.gateway.url, 'tools/list', undefined, { token: 'wrong-token' })).status).toBe(401);

    const response = await fetch(`${mesh.gateway.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(sample(text, 'meshgate_requests_total{method="tools/call",tool="getProductById",service="shopping-service",outcome="ok"}')).toBe(1);
    expect(sample(text, 'meshgate_requests_total{method="tools/call",tool="(unknown)",service="",outcome="error"}')).toBe(2);
    expect(text).not.toContain('no-such-tool');
    expect(sample(text, 'meshgate_refusals_total{reason="unauthorized"}')).toBe(1);
    expect(sample(text, 'meshgate_upstream_duration_seconds_count{method="tools/call",service="shopping-service"}')).toBe(1);
    expect(sample(text, 'meshgate_request_duration_seconds_count{method="tools/call",service="shopping-service"}')).toBe(1);
    expect(sample(text, 'meshgate_service_status{service="shopping-service",status="up"}')).toBe(1);
    expect(sample(text, 'meshgate_service_circuit{service="user-service",state="closed"}')).toBe(1);
    expect(sample(text, 'meshgate_catalog_items{kind="tools"}')).toBe(2);
    expect(sample(text, 'meshgate_sessions_open')).toBe(0);
    expect(sample(text, 'meshgate_upstream_reconnects_total{service="shopping-service"}')).toBe(0);
    expect(text).toContain('meshgate_requests_in_flight');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('counts a call of the stateless 2026-07-28 revision too (the SDK server runs the same method table)', async () => {
    const response = await fetch(`${mesh.gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${TOKEN}`,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'getUserById',
        'x-request-id': 'modern-1',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 5,
        method: 'tools/call',
        params: {
          name: 'getUserById',
          arguments: { id: '456' },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
          },
        },
      }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('modern-1');
    const metrics = await (await fetch(`${mesh.gateway.url}/metrics`)).text();
    expect(sample(metrics, 'meshgate_requests_total{method="tools/call",tool="getUserById",service="user-service",outcome="ok"}')).toBe(1);
  });

  it('writes one access-log line per request, with the request id it sent upstream', async () => {
    await rpc(mesh.gateway.url, 'tools/call', { name: 'getUserById', arguments: { id: '456' } }, { headers: { 'x-request-id': 'req-log-7' } });
    const line = await eventually('the access-log line', async () =>
      mesh.gateway
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((entry) => entry.msg === 'request' && entry.requestId === 'req-log-7'),
    );
    expect(line).toMatchObject({ identity: expect.any(String), method: 'tools/call', tool: 'getUserById', service: 'user-service', status: 200 });
    expect(line.durationMs).toBeGreaterThan(0);
    expect(line.bytesIn).toBeGreaterThan(0);
    expect(line.bytesOut).toBeGreaterThan(0);
    // A request id that is not a safe token is replaced by a generated one.
    const odd = await rpc(mesh.gateway.url, 'ping', undefined, { headers: { 'x-request-id': 'a b"c' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('observability: who may read /metrics', () => {
  it('asks for the metrics token when one is set; counts rate-limit refusals', async () => {
    const gateway = await startGateway({ MESHGATE_METRICS_TOKEN: 'scraper-token-0123456789', MESHGATE_RATE_LIMIT_PER_MINUTE: '2' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await rpc(gateway.url, 'ping')).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
      const ok = await fetch(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer scraper-token-0123456789' } });
      expect(ok.status).toBe(200);
      const text = await ok.text();
      expect(sample(text, 'meshgate_refusals_total{reason="rate_limited"}')).toBe(1);
      expect(sample(text, 'meshgate_requests_total{method="ping",tool="",service="",outcome="ok"}')).toBe(2);
    } finally {
      await gateway.stop();
    }
  });

  it('serves /metrics only on its own port when MESHGATE_METRICS_PORT is set', async () => {
    const port = await freePort();
    const gateway = await startGateway({ MESHGATE_METRICS_PORT: String(port) });
    try {
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('meshgate_sessions_open');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });

  it('an admin API request is guarded, logged and counted once: it takes one unit of the rate budget', async () => {
    const gateway = await startGateway({ MESHGATE_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await fetch(`${gateway.url}/services`, { headers: { authorization: `Bearer ${TOKEN}` } })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(sample(text, 'meshgate_refusals_total{reason="rate_limited"}')).toBe(1);
    } finally {
      await gateway.stop();
    }
  });

  it('is off with MESHGATE_METRICS=false', async () => {
    const gateway = await startGateway({ MESHGATE_METRICS: 'false' });
    try {
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });
});

describe('observability: service status and reconnects', () => {
  it('shows a service going down and counts its reconnect when it is back', async () => {
    const mesh = await startMesh();
    let shopping = mesh.shopping;
    const scrape = async () => (await fetch(`${mesh.gateway.url}/metrics`)).text();
    try {
      expect(sample(await scrape(), 'meshgate_upstream_reconnects_total{service="shopping-service"}')).toBe(0);
      await shopping.stop();
      await eventually('shopping-service down', async () => sample(await scrape(), 'meshgate_service_status{service="shopping-service",status="down"}') === 1);
      shopping = await startProcess({ entry: SHOPPING_ENTRY, name: 'shopping-service', env: { PORT: String(mesh.shopping.port) } });
      await eventually(
        'shopping-service up again',
        async () => sample(await scrape(), 'meshgate_service_status{service="shopping-service",status="up"}') === 1,
      );
      expect(sample(await scrape(), 'meshgate_upstream_reconnects_total{service="shopping-service"}')).toBe(1);
      expect(sample(await scrape(), 'meshgate_upstream_reconnects_total{service="user-service"}')).toBe(0);
    } finally {
      await mesh.gateway.stop();
      await Promise.all([shopping.stop(), mesh.user.stop()]);
    }
  });
});
