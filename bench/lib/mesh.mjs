/**
 * The benchmark's processes: backends, the gateway and the bare forwarder, each a real
 * Node process on a 127.0.0.1 ephemeral port, optionally pinned to core 0 with taskset.
 * Also reads a process's CPU time and RSS from /proc.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/lib/net.mjs';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const GATEWAY_ENTRY = join(REPO_ROOT, 'packages/gateway/dist/main.js');
const BENCH_DIR = join(REPO_ROOT, 'bench');

export function toolName(backend, index) {
  return `${backend}_t${String(index).padStart(3, '0')}`;
}
export function backendName(index) {
  return `b${String(index).padStart(2, '0')}`;
}

export const sleep = (ms) => new Promise((wake) => setTimeout(wake, ms));

/** Polls `check` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitFor(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(100);
  }
}

/**
 * Decides where processes run. With 2+ cores and taskset available, servers go to core 0
 * and this process (the load generator) to core 1.
 */
export function choosePinning(wanted) {
  const cores = cpus().length;
  let taskset = false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    taskset = true;
  } catch {
    taskset = false;
  }
  if (!wanted || !taskset || cores < 2) {
    return {
      pinned: false,
      cores,
      prefix: [],
      note: wanted ? `not pinned (taskset ${taskset ? 'found' : 'missing'}, ${cores} cores)` : 'not pinned (--no-pin)',
    };
  }
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  return { pinned: true, cores, prefix: ['taskset', '-c', '0'], note: 'servers (backends, gateway, forwarder) on core 0; load generator on core 1' };
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `node [nodeArgs] script` in `cwd` (through taskset when pinned) and waits until `healthUrl` answers 200. */
export async function startNode({ name, script, env, nodeArgs = [], pinning, healthUrl, cwd = REPO_ROOT }) {
  const command = [...pinning.prefix, process.execPath, ...nodeArgs, script];
  const child = spawn(command[0], command.slice(1), {
    cwd,
    env: { ...process.env, HOST: '127.0.0.1', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal);
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await waitFor(`${name} health`, async () => {
      if (gone) throw new Error(`${name} exited:\n${tail}`);
      return (await fetch(healthUrl)).ok;
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${error.message}\n${tail}`);
  }
  return {
    name,
    pid: child.pid,
    output: () => tail,
    async stop() {
      if (gone) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU time of a process so far, in milliseconds (/proc/<pid>/stat). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0; utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Resident set size of a process, in MiB (/proc/<pid>/status). */
export function rssMiB(pid) {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The V8 flags the gateway ships with (Dockerfile, npm start; docs/decisions/0004-gateway-heap.md). */
export const GATEWAY_NODE_ARGS = ['--max-semi-space-size=8', '--min-semi-space-size=8', '--heap-growing-percent=20', '--no-allocation-site-pretenuring'];

/**
 * The extra gateway configurations asked for in the environment, each measured beside
 * `gateway` in the tool-call workloads. Every one is started like the main gateway (same
 * environment, node flags, pinning, backends and token) but for what it names:
 * - `variant` (BENCH_VARIANT_ENV, BENCH_VARIANT_NODE_ARGS): this checkout's gateway with extra
 *   environment and/or other node flags in place of the shipped ones;
 * - `baseline` (BENCH_BASELINE): the built gateway of another checkout, e.g. the commit before
 *   a change, to measure before and after in one run.
 */
export function extraGateways(env = process.env) {
  const extras = [];
  if (env.BENCH_VARIANT_ENV !== undefined || env.BENCH_VARIANT_NODE_ARGS !== undefined) {
    extras.push({
      name: 'variant',
      env: env.BENCH_VARIANT_ENV ? JSON.parse(env.BENCH_VARIANT_ENV) : undefined,
      nodeArgs: env.BENCH_VARIANT_NODE_ARGS?.split(' ').filter((arg) => arg !== ''),
    });
  }
  if (env.BENCH_BASELINE !== undefined && env.BENCH_BASELINE !== '') {
    const root = resolve(env.BENCH_BASELINE);
    const entry = join(root, 'packages/gateway/dist/main.js');
    if (!existsSync(entry)) throw new Error(`BENCH_BASELINE: ${entry} does not exist; build that checkout first (npx tsc -b in ${root})`);
    extras.push({ name: 'baseline', root, entry });
  }
  return extras;
}

/**
 * Starts the whole mesh: backend b00 alone in one process (the one under load), b01..bNN
 * together in another, the gateway federating all of them, the forwarder in front of b00,
 * and each of `extras` (see extraGateways) as one more gateway. Every backend serves `tools` tools.
 */
/** Processes started together and stopped together, newest first; `stop` also removes `dir`. */
export function processSet(pinning, dir) {
  const started = [];
  const start = async (options) => {
    const proc = await startNode({ pinning, ...options });
    started.push(proc);
    return proc;
  };
  const stop = async () => {
    await Promise.allSettled(started.reverse().map((proc) => proc.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  return { start, stop };
}

export async function startBenchMesh({ backends = 10, tools = 100, pinning, gatewayNodeArgs = [], extras = [], log = () => {} }) {
  const token = randomBytes(18).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-bench-'));
  const names = Array.from({ length: backends }, (_, index) => backendName(index));
  const ports = await Promise.all(names.map(() => freePort()));
  const url = (port) => `http://127.0.0.1:${port}`;
  const { start, stop } = processSet(pinning, dir);
  try {
    log(`starting ${backends} backends with ${tools} tools each`);
    const backendEnv = (list) => ({
      MCP_BEARER_TOKEN: token,
      BENCH_TOOLS: String(tools),
      BENCH_BACKENDS: list.map((name, _i) => `${name}:${ports[names.indexOf(name)]}`).join(','),
    });
    const script = join(BENCH_DIR, 'backend.mjs');
    const [direct, rest] = await Promise.all([
      start({ name: 'backend b00', script, env: backendEnv(names.slice(0, 1)), healthUrl: `${url(ports[0])}/health` }),
      backends > 1 ? start({ name: 'backends b01+', script, env: backendEnv(names.slice(1)), healthUrl: `${url(ports[backends - 1])}/health` }) : undefined,
    ]);
    for (let i = 1; i < backends - 1; i += 1) await waitFor(`${names[i]} health`, async () => (await fetch(`${url(ports[i])}/health`)).ok);

    const floorPort = await freePort();
    const floor = await start({
      name: 'forwarder',
      script: join(BENCH_DIR, 'forwarder.mjs'),
      env: { PORT: String(floorPort), BENCH_TARGET: url(ports[0]) },
      healthUrl: `${url(floorPort)}/health`,
    });

    const configPath = join(dir, 'meshgate.json');
    writeFileSync(configPath, JSON.stringify({ services: names.map((name, i) => ({ name, url: `${url(ports[i])}/mcp`, credential: { gateway: true } })) }));
    if (!existsSync(GATEWAY_ENTRY)) throw new Error(`${GATEWAY_ENTRY} does not exist; run npm run build first`);
    /** One gateway: this checkout's unless `entry` (and `root`, its checkout) say otherwise. */
    const startGateway = async ({ name, env: extraEnv = {}, nodeArgs: shippedArgs = GATEWAY_NODE_ARGS, entry = GATEWAY_ENTRY, root = REPO_ROOT }) => {
      const port = await freePort();
      log(`starting the ${name}${entry === GATEWAY_ENTRY ? '' : ` from ${root}`}`);
      const proc = await start({
        name,
        script: entry,
        cwd: root,
        nodeArgs: [...shippedArgs, ...gatewayNodeArgs],
        env: {
          PORT: String(port),
          MESHGATE_DB_PATH: join(dir, `${name}.db`),
          MESHGATE_CONFIG: configPath,
          MCP_BEARER_TOKEN: token,
          // Every workload uses the one token: the new-sessions row opens up to 3,000 a round
          // and the memory row 1,000 more, past the default of 1,000 per token (a limit of the
          // perimeter, not a cost: nothing per call depends on it).
          MESHGATE_MAX_SESSIONS: '20000',
          MESHGATE_MAX_SESSIONS_PER_IDENTITY: '20000',
          ...extraEnv,
        },
        healthUrl: `${url(port)}/health`,
      });
      // Generous: on a machine busy with the rest of the test suite, ten backends' first
      // listings took over 20 s; the message names what was still missing.
      await waitFor(
        `every backend up in the ${name}`,
        async () => {
          const health = await (await fetch(`${url(port)}/health`)).json();
          const missing = names.filter((service) => !(health.services?.[service]?.status === 'up' && health.services[service].tools === tools));
          if (missing.length === 0) return true;
          const first = health.services?.[missing[0]];
          throw new Error(`${missing.length} not yet, ${missing[0]} ${first === undefined ? 'unknown' : `${first.status} with ${first.tools} tools`}`);
        },
        90_000,
      );
      return { proc, url: url(port) };
    };
    const gateway = await startGateway({ name: 'gateway' });
    // Optional further gateways, measured side by side (A/B of a change, before/after).
    const more = [];
    for (const extra of extras) more.push([extra.name, await startGateway(extra)]);
    return {
      token,
      tools: backends * tools,
      urls: { direct: url(ports[0]), gateway: gateway.url, floor: url(floorPort), ...Object.fromEntries(more.map(([name, g]) => [name, g.url])) },
      procs: { direct, rest, floor, gateway: gateway.proc, ...Object.fromEntries(more.map(([name, g]) => [name, g.proc])) },
      extras: more.map(([name]) => name),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
