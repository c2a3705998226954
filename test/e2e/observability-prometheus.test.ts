import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Mesh, rpc, startMesh } from '../helpers/mesh.js';
import { freePort } from '../helpers/process.js';

const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends prometheus';

/** A real Prometheus server (Debian's package), started by the test on an ephemeral port with its own config and storage. */
async function startPrometheus(target: string): Promise<{ url: string; child: ChildProcess; output: () => string; dir: string }> {
  const found = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (found.error !== undefined || found.status !== 0) {
    throw new Error(`Prometheus is not installed, and this test needs the real server: install it with \`${INSTALL}\` (.ci/run does in CI)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: meshgate', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'),
  );
  const port = await freePort();
  let output = '';
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await eventually('Prometheus ready', async () => (await fetch(`${url}/-/ready`)).ok, 30_000).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${output.slice(-2000)}`);
  });
  return { url, child, output: () => output, dir };
}

/** One instant query through Prometheus's HTTP API: the single value, or undefined while there is none. */
async function queryValue(prometheus: string, expression: string): Promise<number | undefined> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expression)}`);
  const body = (await response.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  expect(body.status).toBe('success');
  const first = body.data.result[0];
  return first === undefined ? undefined : Number(first.value[1]);
}

describe('observability: a real Prometheus scrapes the gateway', () => {
  let mesh: Mesh;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;

  beforeAll(async () => {
    mesh = await startMesh();
    prometheus = await startPrometheus(`127.0.0.1:${mesh.gateway.port}`);
  }, 60_000);
  afterAll(async () => {
    if (prometheus !== undefined) {
      const exited = new Promise((resolve) => prometheus?.child.once('exit', resolve));
      prometheus.child.kill('SIGTERM');
      await exited;
      rmSync(prometheus.dir, { recursive: true, force: true });
    }
    await mesh?.gateway.stop();
    await Promise.all([mesh?.shopping.stop(), mesh?.user.stop()]);
  });

  it('reads back the calls, their latency and the services through the query API', async () => {
    const url = (prometheus as { url: string }).url;
    const calls = 20;
    for (let i = 0; i < calls; i += 1) {
      const params = i % 2 === 0 ? { name: 'getProductById', arguments: { id: '123' } } : { name: 'getUserById', arguments: { id: '456' } };
      const { body } = await rpc(mesh.gateway.url, 'tools/call', params);
      expect(body.result.isError).not.toBe(true);
    }
    await rpc(mesh.gateway.url, 'tools/call', { name: 'missing', arguments: {} });

    await eventually('the scrape target up', async () => (await queryValue(url, 'up{job="meshgate"}')) === 1, 30_000);
    await eventually(
      'all calls counted',
      async () => (await queryValue(url, 'sum(meshgate_requests_total{method="tools/call",outcome="ok"})')) === calls,
      30_000,
    );
    expect(await queryValue(url, 'meshgate_requests_total{tool="getProductById",service="shopping-service",outcome="ok"}')).toBe(calls / 2);
    expect(await queryValue(url, 'meshgate_requests_total{tool="(unknown)",outcome="error"}')).toBe(1);
    expect(await queryValue(url, 'sum(meshgate_upstream_duration_seconds_count{method="tools/call"})')).toBe(calls);
    const p99 = await queryValue(url, 'histogram_quantile(0.99, sum by (le) (meshgate_request_duration_seconds_bucket{method="tools/call"}))');
    expect(p99).toBeGreaterThan(0);
    expect(await queryValue(url, 'sum(meshgate_service_status{status="up"})')).toBe(2);
    expect(await queryValue(url, 'meshgate_catalog_items{kind="tools"}')).toBe(2);
    expect(await queryValue(url, 'process_resident_memory_bytes{job="meshgate"}')).toBeGreaterThan(0);
  }, 90_000);
});
