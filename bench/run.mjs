#!/usr/bin/env node
/**
 * npm run bench [-- options]; `npm run bench -- --help` prints them (USAGE below).
 *
 * Reads its options (--help needs no build), builds the repo, starts backends, the gateway
 * and a bare forwarder on 127.0.0.1, drives the workloads of issue 6 with the configurations
 * interleaved over several rounds (bench/lib/rounds.mjs), then the scale workloads of issue 18
 * on a mesh of their own (bench/lib/scale.mjs), and writes latest.json
 * and latest.md (to bench/results/, where both are git-ignored, or to BENCH_OUT_DIR). Exits 1
 * when any answer was an error. Extra gateway configurations (bench/lib/mesh.mjs,
 * extraGateways) run beside `gateway` in the tools/call workloads: `variant` (this checkout
 * with other environment or node flags) and `baseline` (another checkout's built gateway).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { closeSessions, isSuccess, modernCall, postLoad, rpcBody, sdkLoop, serialLoad, sessionLoad } from './lib/load.mjs';
import { choosePinning, extraGateways, REPO_ROOT, rssMiB, sleep, startBenchMesh, toolName } from './lib/mesh.mjs';
import { REPLICA_WORKLOADS, runReplicas } from './lib/replicas.mjs';
import { toMarkdown } from './lib/report.mjs';
import { interleaved as interleave } from './lib/rounds.mjs';
import { runScale, SCALE_PLANS, SCALE_WORKLOADS } from './lib/scale.mjs';
import { ratio } from './lib/stats.mjs';
import { STEADY_PLANS, steadyMemory, steadyTarget } from './lib/steady.mjs';
import { runToolSearch, toolSearchTargets } from './lib/tool-search.mjs';

const MAIN_WORKLOADS = ['call_c1', 'call_c32', 'call_modern', 'list_1000', 'sdk_loop', 'sessions', 'memory', 'call_obs', 'memory_steady'];
const ALL_WORKLOADS = [...MAIN_WORKLOADS, ...SCALE_WORKLOADS, ...REPLICA_WORKLOADS, 'tool_search'];
/**
 * The gateways of the observability workload (call_obs): the same build with everything
 * off, with metrics and the access log on (the 10% target), plus the audit log, plus
 * tracing (exported to a sink in this process that accepts and drops every batch).
 */
const OBS_OFF = { MESHGATE_METRICS: 'false', MESHGATE_ACCESS_LOG: 'off', MESHGATE_AUDIT: 'false' };
const OBS_ON = { MESHGATE_METRICS: 'true', MESHGATE_ACCESS_LOG: 'info', MESHGATE_AUDIT: 'false' };
const OBS_AUDIT = { ...OBS_ON, MESHGATE_AUDIT: 'true' };
const USAGE = `Usage: npm run bench [-- options]   (or: node bench/run.mjs [options])

Options:
  --smoke            every workload for a moment and the scale mesh at a small size (about 40 s), for CI;
                     same as BENCH_SMOKE=1
  --no-pin           do not pin processes with taskset (default: servers on core 0, load on core 1)
  --rounds N         interleaved rounds per workload (default 5; smoke 1)
  --seconds S        seconds per configuration and round (default 3; smoke 0.5)
  --only LIST        comma-separated workloads: ${ALL_WORKLOADS.join(',')}
                     (call_obs starts four more gateways: observability off, metrics+access log, +audit, +tracing;
                     the scale_* workloads run on a second mesh of ${SCALE_PLANS.full.backends} backends × ${SCALE_PLANS.full.tools} tools,
                     ${SCALE_PLANS.full.idleSessions} idle sessions for scale_memory; smoke: ${SCALE_PLANS.smoke.backends} × ${SCALE_PLANS.smoke.tools}, ${SCALE_PLANS.smoke.idleSessions};
                     memory_steady holds tools/call at c=${STEADY_PLANS.full.connections} for ${STEADY_PLANS.full.seconds} s after a ${STEADY_PLANS.full.warmupSeconds} s warm-up, RSS every
                     ${STEADY_PLANS.full.sampleSeconds} s: the long one, alone with --only memory_steady; smoke: ${STEADY_PLANS.smoke.seconds} s;
                     replicas_call and replicas_sdk start PostgreSQL (Debian's), three gateway replicas sharing it and the
                     session keys, and two HAProxies (Debian's haproxy: one replica vs three, round-robin); seal_open times
                     opening a sealed session id;
                     tool_search counts the tokens of tools/list vs the search path on a generated catalog of 1,000 tools
                     and recall@1/@5 of search_tools over its fixed queries, in process, no mesh)
  --no-build         do not build the repository first (npm run build) before the run
  --help             print this and exit

Environment:
  BENCH_OUT_DIR=DIR              write latest.json and latest.md to DIR (default bench/results/, git-ignored)
  BENCH_SMOKE=1                  same as --smoke
  BENCH_BASELINE=DIR             also run the gateway of the checkout in DIR (its packages/gateway/dist/main.js
                                 must be built), started like this one, as configuration "baseline"
  BENCH_VARIANT_ENV='{"K":"v"}'  also run this checkout's gateway with extra environment, as "variant"
  BENCH_VARIANT_NODE_ARGS='...'  start "variant" with these node flags in place of the shipped ones
  BENCH_COMMIT=ID                the commit to name in the report (default: git rev-parse)

"baseline" and "variant" are measured beside "gateway" in call_c1, call_c32, call_modern and sdk_loop.
`;

const argv = process.argv.slice(2);
const args = new Set(argv);
if (args.has('--help') || args.has('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const VALUED = new Set(['--rounds', '--seconds', '--only']);
const FLAGS = new Set(['--smoke', '--no-pin', '--no-build']);
for (let i = 0; i < argv.length; i += 1) {
  if (VALUED.has(argv[i]) && argv[i + 1] !== undefined) i += 1;
  else if (!FLAGS.has(argv[i])) {
    process.stderr.write(`bench: unknown or incomplete option ${argv[i]}\n\n${USAGE}`);
    process.exit(2);
  }
}
const option = (name) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const smoke = args.has('--smoke') || process.env.BENCH_SMOKE === '1';
const plan = smoke
  ? { rounds: 1, seconds: 0.5, warmup: 0.3, sdkSeconds: 0.5, sessionSeconds: 0.5, sessionMax: 50, idleSessions: 100 }
  : { rounds: 5, seconds: 3, warmup: 2, sdkSeconds: 3, sessionSeconds: 3, sessionMax: 3000, idleSessions: 1000 };
if (option('rounds')) plan.rounds = Number(option('rounds'));
if (option('seconds')) plan.seconds = plan.sdkSeconds = plan.sessionSeconds = Number(option('seconds'));
const only = option('only')?.split(',');
const unknownWorkloads = only?.filter((name) => !ALL_WORKLOADS.includes(name)) ?? [];
if (unknownWorkloads.length > 0) {
  process.stderr.write(`bench: unknown workload(s) ${unknownWorkloads.join(', ')}\n\n${USAGE}`);
  process.exit(2);
}
const wanted = (name) => only === undefined || only.includes(name);
// Built here, after the arguments are read, so that --help and a wrong option need no build.
if (!args.has('--no-build')) execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
const outDir = process.env.BENCH_OUT_DIR ?? join(REPO_ROOT, 'bench/results');
const BACKENDS = 10;
const TOOLS_PER_BACKEND = 100;
const CALL_TOOL = toolName('b00', 0);

const t0 = performance.now();
const log = (message) => console.log(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}`);
const show = (s) => `${Math.round(s.rps)} req/s, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, errors ${s.errors}`;

const pinning = choosePinning(!args.has('--no-pin'));
log(`${smoke ? 'smoke run' : 'full run'}; ${pinning.note}`);
const extras = extraGateways();
const obsConfigs = [];
let traceSink;
if (wanted('call_obs')) {
  traceSink = createServer((request, response) => request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
  await new Promise((resolve) => traceSink.listen(0, '127.0.0.1', resolve));
  const traced = { ...OBS_AUDIT, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${traceSink.address().port}` };
  for (const [name, env] of Object.entries({ obs_off: OBS_OFF, obs_on: OBS_ON, obs_audit: OBS_AUDIT, obs_traced: traced })) {
    extras.push({ name, env });
    obsConfigs.push(name);
  }
}
const workloads = {};
const memory = {};
let scale;
let toolSearch;
let replicas;
let exitCode = 0;
const runMain = MAIN_WORKLOADS.some(wanted);
const mesh = runMain ? await startBenchMesh({ backends: BACKENDS, tools: TOOLS_PER_BACKEND, pinning, extras, log }) : undefined;
const { token, urls, procs } = mesh ?? {};
if (mesh) log(`mesh up: gateway federates ${mesh.tools} tools from ${BACKENDS} backends`);

/** The configurations interleaved in rounds, with the CPU per request of the gateway(s), b00 and the forwarder. */
function interleaved(title, configs, load) {
  const watched = { gatewayCpuUs: procs.gateway.pid, backendCpuUs: procs.direct.pid, forwarderCpuUs: procs.floor.pid };
  for (const name of mesh.extras) watched[`${name}CpuUs`] = procs[name].pid;
  return interleave({ title, configs, rounds: plan.rounds, watched, load, log, show });
}

const CALL_BODY = rpcBody('tools/call', { name: CALL_TOOL, arguments: { id: '42' } });
const LIST_BODY = rpcBody('tools/list');
const MODERN_CALL = modernCall(CALL_TOOL, { id: '42' });
const CALL_CONFIGS = ['direct', 'gateway', 'floor', ...(mesh?.extras.filter((name) => !obsConfigs.includes(name)) ?? [])];
const listedAll = (message) => isSuccess(message) && Array.isArray(message.result.tools) && message.result.tools.length === mesh.tools;
const callLoad = (connections) => (config) => postLoad({ baseUrl: urls[config], token, body: CALL_BODY, connections, seconds: plan.seconds });

try {
  if (mesh) await runMainWorkloads();
  if (SCALE_WORKLOADS.some(wanted)) scale = await runScale({ wanted, plan, smoke, pinning, log, show });
  if (wanted('tool_search')) toolSearch = await runToolSearch({ log });
  if (REPLICA_WORKLOADS.some(wanted)) replicas = await runReplicas({ wanted, plan, smoke, pinning, log, show });
} catch (error) {
  log(`benchmark failed: ${error.stack ?? error}`);
  for (const proc of Object.values(procs ?? {})) if (proc) console.error(`--- ${proc.name} output (tail) ---\n${proc.output().slice(-2000)}`);
  exitCode = 2;
} finally {
  await mesh?.stop();
  traceSink?.close();
}
if (scale) Object.assign(workloads, scale.workloads);
if (replicas) Object.assign(workloads, replicas.workloads);

/** The workloads on the mesh of 10 backends; the mesh is stopped by the caller. */
async function runMainWorkloads() {
  memory.startMiB = rssMiB(procs.gateway.pid);
  if (wanted('memory')) {
    // First, on a fresh gateway: the load that follows raises the heap's high-water mark.
    log(`opening ${plan.idleSessions} idle sessions on the gateway`);
    const idle = await sessionLoad({ baseUrl: urls.gateway, token, concurrency: 4, seconds: 600, max: plan.idleSessions });
    await sleep(smoke ? 200 : 2000);
    const health = await (await fetch(`${urls.gateway}/health`)).json();
    memory.idleSessions = health.sessions;
    memory.idleSessionsMiB = rssMiB(procs.gateway.pid);
    memory.errors = idle.errors + (health.sessions >= plan.idleSessions ? 0 : 1);
    log(`gateway RSS ${memory.idleSessionsMiB.toFixed(1)} MiB with ${health.sessions} sessions open`);
    await closeSessions(urls.gateway, token, idle.ids);
  }
  log('warming up');
  for (const config of [...CALL_CONFIGS, ...obsConfigs])
    await postLoad({ baseUrl: urls[config], token, body: CALL_BODY, connections: 8, seconds: plan.warmup });
  await postLoad({ baseUrl: urls.gateway, token, body: LIST_BODY, connections: 1, seconds: plan.warmup, check: listedAll });
  if (wanted('call_modern'))
    await postLoad({ baseUrl: urls.gateway, token, body: MODERN_CALL.body, headers: MODERN_CALL.headers, connections: 8, seconds: plan.warmup });

  if (wanted('call_c1')) workloads.call_c1 = await interleaved('tools/call, c=1', CALL_CONFIGS, callLoad(1));
  if (wanted('call_c32')) workloads.call_c32 = await interleaved('tools/call, c=32', CALL_CONFIGS, callLoad(32));
  if (wanted('call_modern')) {
    // One gateway, two bodies: the sessionless call and the 2026-07-28 one, its CPU watched under each name.
    // A variant or baseline gateway gets the same pair ("variant", "variant_modern"; "baseline", "baseline_modern").
    const watched = { gatewayCpuUs: procs.gateway.pid, modernCpuUs: procs.gateway.pid, backendCpuUs: procs.direct.pid };
    const pairs = [['gateway', 'modern']];
    for (const extra of CALL_CONFIGS.filter((config) => mesh.extras.includes(config))) {
      Object.assign(watched, { [`${extra}CpuUs`]: procs[extra].pid, [`${extra}_modernCpuUs`]: procs[extra].pid });
      pairs.push([extra, `${extra}_modern`]);
      await postLoad({ baseUrl: urls[extra], token, body: MODERN_CALL.body, headers: MODERN_CALL.headers, connections: 8, seconds: plan.warmup });
    }
    const gatewayOf = Object.fromEntries(
      pairs.flatMap(([plain, modern]) => [
        [plain, plain],
        [modern, plain],
      ]),
    );
    workloads.call_modern = await interleave({
      title: 'tools/call, c=32, sessionless vs 2026-07-28',
      configs: pairs.flat(),
      rounds: plan.rounds,
      watched,
      log,
      show,
      load: (config) =>
        config.endsWith('modern')
          ? postLoad({ baseUrl: urls[gatewayOf[config]], token, body: MODERN_CALL.body, headers: MODERN_CALL.headers, connections: 32, seconds: plan.seconds })
          : callLoad(32)(config),
    });
  }
  if (wanted('list_1000')) {
    workloads.list_1000 = await interleaved(`tools/list, ${mesh.tools} tools, c=1`, ['gateway'], () =>
      serialLoad({ baseUrl: urls.gateway, token, body: LIST_BODY, seconds: plan.seconds, check: listedAll }),
    );
  }
  if (wanted('sdk_loop')) {
    workloads.sdk_loop = await interleaved('SDK client loop (session, tools/call)', CALL_CONFIGS, (config) =>
      sdkLoop({ baseUrl: urls[config], token, tool: CALL_TOOL, seconds: plan.sdkSeconds }),
    );
  }
  if (wanted('sessions')) {
    workloads.sessions = await interleaved('new sessions (initialize + initialized), c=4', ['direct', 'gateway'], async (config) => {
      const run = await sessionLoad({ baseUrl: urls[config], token, concurrency: 4, seconds: plan.sessionSeconds, max: plan.sessionMax });
      const ids = run.ids;
      delete run.ids;
      run.errors += await closeSessions(urls[config], token, ids);
      return run;
    });
  }
  if (wanted('call_obs')) workloads.call_obs = await interleaved('tools/call, c=32, observability', obsConfigs, callLoad(32));
  if (wanted('memory_steady')) {
    const size = smoke ? STEADY_PLANS.smoke : STEADY_PLANS.full;
    memory.steady = await steadyMemory({ baseUrl: urls.gateway, token, body: CALL_BODY, pid: procs.gateway.pid, size, log });
  }
  memory.afterLoadMiB = rssMiB(procs.gateway.pid);
  await mesh.stop();
}

const result = {
  meta: {
    date: new Date().toISOString(),
    node: process.versions.node,
    cpus: cpus().length,
    pinning: pinning.note,
    pinned: pinning.pinned,
    ...extrasMeta(),
    smoke,
    rounds: plan.rounds,
    secondsPerRun: plan.seconds,
    backends: BACKENDS,
    tools: mesh?.tools ?? BACKENDS * TOOLS_PER_BACKEND,
    callTool: CALL_TOOL,
    commit: process.env.BENCH_COMMIT ?? gitCommit(REPO_ROOT),
  },
  workloads,
  memory,
  ...(scale ? { scaleMemory: scale.memory, scaleSize: scale.size } : {}),
  ...(toolSearch ? { toolSearch } : {}),
  ...(replicas?.seal ? { sealOpen: replicas.seal } : {}),
  targets: [...targets(workloads, memory), ...(scale?.targets ?? []), ...(replicas?.targets ?? []), ...toolSearchTargets(toolSearch)],
};
result.errors =
  Object.values(workloads).reduce((sum, w) => sum + Object.values(w.configs).reduce((n, s) => n + s.errors, 0), 0) +
  (memory.errors ?? 0) +
  (memory.steady?.errors ?? 0) +
  (scale?.memory.errors ?? 0) +
  (replicas?.seal?.errors ?? 0);
const measuredAll = (name) => {
  if (name === 'memory') return Number.isFinite(memory.idleSessionsMiB);
  if (name === 'memory_steady') return Number.isFinite(memory.steady?.spread);
  if (name === 'scale_memory') return Number.isFinite(scale?.memory.idleSessionsMiB);
  if (name === 'tool_search') return toolSearch !== undefined;
  if (name === 'seal_open') return Number.isFinite(replicas?.seal?.micros);
  return workloads[name] !== undefined;
};
result.complete = ALL_WORKLOADS.every(measuredAll);
result.valid = exitCode === 0 && result.errors === 0 && (only !== undefined || result.complete);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(outDir, 'latest.md'), toMarkdown(result));
console.log(`\n${toMarkdown(result)}`);
log(`wrote ${join(outDir, 'latest.json')} and latest.md${result.valid ? '' : ' (INVALID run)'}`);
process.exit(exitCode || (result.valid ? 0 : 1));

function targets(w, mem) {
  const c1 = w.call_c1?.configs;
  const c32 = w.call_c32?.configs;
  const list = w.list_1000?.configs.gateway;
  const list_ = [];
  if (c1) {
    const addedGateway = c1.gateway.p50 - c1.direct.p50;
    const addedFloor = c1.floor.p50 - c1.direct.p50;
    list_.push({
      id: 'c1_added_latency',
      text: 'c=1: gateway p50 within 0.3 ms of direct',
      value: addedGateway,
      measured: `+${addedGateway.toFixed(3)} ms`,
      met: addedGateway <= 0.3,
    });
    list_.push({
      id: 'c1_added_vs_floor',
      text: "c=1: gateway's added p50 within 2× the forwarder's",
      value: ratio(addedGateway, addedFloor),
      measured: `+${addedGateway.toFixed(3)} ms vs +${addedFloor.toFixed(3)} ms (${ratio(addedGateway, addedFloor).toFixed(2)}×)`,
      met: addedGateway <= 2 * Math.max(addedFloor, 0),
    });
  }
  if (c32) {
    const share = ratio(c32.gateway.rps, c32.direct.rps);
    list_.push({
      id: 'c32_throughput',
      text: 'c=32: gateway ≥ 60% of direct req/s',
      value: share,
      measured: `${(share * 100).toFixed(0)}%`,
      met: share >= 0.6,
    });
    list_.push({
      id: 'c32_absolute',
      text: 'c=32: gateway ≥ 2,000 tool calls/s',
      value: c32.gateway.rps,
      measured: `${Math.round(c32.gateway.rps)}/s`,
      met: c32.gateway.rps >= 2000,
    });
  }
  if (list)
    list_.push({ id: 'list_p50', text: 'tools/list over 1,000 tools: p50 < 2 ms', value: list.p50, measured: `${list.p50.toFixed(2)} ms`, met: list.p50 < 2 });
  if (Number.isFinite(mem.idleSessionsMiB)) {
    list_.push({
      id: 'rss',
      text: 'gateway RSS < 150 MB (10 backends, 1,000 tools, 1,000 idle sessions)',
      value: mem.idleSessionsMiB,
      measured: `${mem.idleSessionsMiB.toFixed(1)} MiB with ${mem.idleSessions} sessions`,
      met: mem.idleSessionsMiB * 1.048576 < 150 && mem.idleSessions >= 1000,
    });
  }
  const modern = w.call_modern?.configs;
  if (modern) {
    const cost = ratio(modern.modern.modernCpuUs, modern.gateway.gatewayCpuUs);
    list_.push({
      id: 'modern_cpu',
      text: '2026-07-28 tools/call: gateway CPU per call within 10% of the sessionless one',
      value: cost,
      measured: `${cost.toFixed(2)}× (${modern.modern.modernCpuUs.toFixed(0)} vs ${modern.gateway.gatewayCpuUs.toFixed(0)} µs/call)`,
      met: cost <= 1.1,
    });
  }
  if (mem.steady) list_.push(steadyTarget(mem.steady));
  const obs = w.call_obs?.configs;
  if (obs) {
    const cost = (config) => ratio(obs[config][`${config}CpuUs`], obs.obs_off.obs_offCpuUs) - 1;
    const shown = (value) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
    list_.push({
      id: 'obs_cost',
      text: 'metrics + access log on, tracing off: gateway CPU per tools/call within 10% of all off',
      value: cost('obs_on'),
      measured: `${shown(cost('obs_on'))} (${obs.obs_on.obs_onCpuUs.toFixed(0)} vs ${obs.obs_off.obs_offCpuUs.toFixed(0)} µs/call)`,
      met: cost('obs_on') <= 0.1,
    });
    for (const config of ['obs_audit', 'obs_traced']) {
      list_.push({
        id: `${config}_cost`,
        text: `${config === 'obs_audit' ? 'plus the audit log' : 'plus tracing (every request sampled)'}: CPU per tools/call vs all off (reported; no target)`,
        value: cost(config),
        measured: `${shown(cost(config))} (${obs[config][`${config}CpuUs`].toFixed(0)} µs/call)`,
        met: true,
      });
    }
  }
  return list_;
}

/** What the report says about each extra gateway: its extra environment, node flags, checkout and commit. */
function extrasMeta() {
  const meta = {};
  for (const extra of extras) {
    if (extra.env) meta[`${extra.name}Env`] = Object.keys(extra.env);
    if (extra.nodeArgs) meta[`${extra.name}NodeArgs`] = extra.nodeArgs;
    if (extra.root) {
      meta[`${extra.name}Root`] = extra.root;
      meta[`${extra.name}Commit`] = gitCommit(extra.root);
    }
  }
  return meta;
}

function gitCommit(cwd) {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return dirty ? `${head}+uncommitted` : head;
  } catch {
    return 'unknown';
  }
}
