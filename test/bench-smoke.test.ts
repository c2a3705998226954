/**
 * The benchmark's smoke run (`npm run bench -- --smoke`) end to end: real backends, gateway
 * and forwarder, every workload for a moment. It proves the benchmark works and that every
 * answer it checked was a successful result. Speed is reported by the benchmark, never
 * asserted here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/process.js';

const outDir = mkdtempSync(join(tmpdir(), 'meshgate-bench-smoke-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function runSmoke(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // --no-build: the suite runs on a built tree; the benchmark's own build is for `npm run bench`.
    const child = spawn(process.execPath, ['bench/run.mjs', '--smoke', '--no-pin', '--no-build'], {
      cwd: REPO_ROOT,
      env: { ...process.env, BENCH_OUT_DIR: outDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('npm run bench -- --smoke', () => {
  it('runs every workload and writes a well-formed result with zero errors', async () => {
    const { code, output } = await runSmoke();
    expect(code, output).toBe(0);

    const result = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
    expect(result.meta).toMatchObject({ smoke: true, backends: 10, tools: 1000 });
    expect(result.valid).toBe(true);
    expect(result.complete).toBe(true);
    expect(result.errors).toBe(0);
    expect(Object.keys(result.workloads).sort()).toEqual([
      'call_c1',
      'call_c32',
      'call_modern',
      'call_obs',
      'list_1000',
      'replicas_call',
      'replicas_sdk',
      'scale_call',
      'scale_list',
      'scale_sessions',
      'sdk_loop',
      'sessions',
    ]);
    for (const workload of Object.values<any>(result.workloads)) {
      for (const [config, summary] of Object.entries<any>(workload.configs)) {
        expect(summary.errors, `${workload.title} / ${config}`).toBe(0);
        expect(summary.requests, `${workload.title} / ${config}`).toBeGreaterThan(0);
        for (const metric of ['rps', 'p50', 'p99']) expect(Number.isFinite(summary[metric]), `${workload.title} / ${config} / ${metric}`).toBe(true);
      }
    }
    expect(Object.keys(result.workloads.call_c32.configs)).toEqual(['direct', 'gateway', 'floor']);
    expect(Number.isFinite(result.workloads.call_c32.configs.gateway.gatewayCpuUs)).toBe(true);
    // The observability workload: the same build with observability off, on, with audit, with tracing.
    expect(Object.keys(result.workloads.call_obs.configs)).toEqual(['obs_off', 'obs_on', 'obs_audit', 'obs_traced']);
    for (const config of Object.keys(result.workloads.call_obs.configs))
      expect(Number.isFinite(result.workloads.call_obs.configs[config][`${config}CpuUs`]), config).toBe(true);
    // The scale rows (a smaller mesh in the smoke run): each gateway's own CPU, the list answers checked in full.
    expect(Object.keys(result.workloads.scale_list.configs)).toEqual(['wide', 'whole', 'whole_gzip']);
    // The gzipped single answer came gzipped (the row insists on it) and is smaller on the wire.
    const listBytes = (config: string) => result.workloads.scale_list.configs[config].runs[0].bytesPerResponse;
    expect(listBytes('whole_gzip')).toBeLessThan(listBytes('whole') / 4);
    expect(Object.keys(result.workloads.scale_call.configs)).toEqual(['direct', 'narrow', 'wide']);
    expect(Object.keys(result.workloads.scale_sessions.configs)).toEqual(['direct', 'wide']);
    expect(Number.isFinite(result.workloads.scale_call.configs.wide.wideCpuUs)).toBe(true);
    expect(Number.isFinite(result.workloads.scale_call.configs.narrow.narrowCpuUs)).toBe(true);
    expect(result.scaleSize).toMatchObject({ backends: 10, tools: 20 });
    expect(result.scaleMemory.idleSessions).toBeGreaterThanOrEqual(result.scaleSize.idleSessions);
    expect(result.scaleMemory.idleSessionsMiB).toBeGreaterThan(0);
    expect(result.memory.idleSessions).toBeGreaterThanOrEqual(100);
    expect(result.memory.idleSessionsMiB).toBeGreaterThan(0);
    // The steady-load row: the gateway's RSS sampled after every slice of the load.
    expect(result.memory.steady.samples.length).toBe(result.memory.steady.seconds / result.memory.steady.sampleSeconds);
    for (const sample of result.memory.steady.samples) expect(sample.rssMiB).toBeGreaterThan(0);
    expect(result.memory.steady.requests).toBeGreaterThan(0);
    expect(result.targets.map((target: { id: string }) => target.id)).toEqual([
      'c1_added_latency',
      'c1_added_vs_floor',
      'c32_throughput',
      'c32_absolute',
      'list_p50',
      'rss',
      'modern_cpu',
      'steady_memory',
      'obs_cost',
      'obs_audit_cost',
      'obs_traced_cost',
      'scale_list_page',
      'scale_list_whole',
      'scale_call_cpu',
      'scale_session_cpu',
      'scale_rss',
      'seal_open',
      'replicas_call_ratio',
      'replicas_sdk_ratio',
      'tool_search_tokens',
      'tool_search_recall',
    ]);
    // Tool search (issue 16): counts, not timings, the same in a smoke run.
    expect(result.toolSearch).toMatchObject({ tools: 1000, services: 10 });
    expect(result.toolSearch.queries).toBeGreaterThanOrEqual(50);
    expect(result.toolSearch.searchPathTokens).toBeLessThan(result.toolSearch.listTokens);
    // The replica rows: one replica vs three behind HAProxy, each with its replicas' own CPU; the sealed-id open cost.
    for (const key of ['replicas_call', 'replicas_sdk']) {
      expect(Object.keys(result.workloads[key].configs)).toEqual(['one', 'three']);
      expect(Number.isFinite(result.workloads[key].configs.one.oneCpuUs)).toBe(true);
      expect(Number.isFinite(result.workloads[key].configs.three.threeCpuUs)).toBe(true);
    }
    expect(result.sealOpen.micros).toBeGreaterThan(0);
    expect(result.sealOpen.errors).toBe(0);
    for (const target of result.targets) expect(typeof target.met).toBe('boolean');

    const markdown = readFileSync(join(outDir, 'latest.md'), 'utf8');
    expect(markdown).toContain('| Workload | Config | req/s |');
    expect(markdown).toContain('| Target (issues 6 and 18) | Measured | Met |');
    expect(markdown).toContain('Scale gateway (wide) RSS:');
    expect(markdown).toContain('Steady load (tools/call at c=16');
  }, 180_000);
});
