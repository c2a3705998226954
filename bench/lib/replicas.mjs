/**
 * The replica rows (issue 15): three gateway replicas behind HAProxy (round-robin, no
 * stickiness) against one replica behind the same HAProxy, on the same machine and backend,
 * and the cost of opening a sealed session id. The replicas are set up as in production:
 * the same session keys and secret key, and one PostgreSQL database (Debian's server, started
 * here as the tests start it) for the registry, the session state and the bus between them:
 * - replicas_call: sessionless tools/call at c=32 through HAProxy to one or three replicas;
 * - replicas_sdk: an SDK client's session calling in a loop, its requests spread over the
 *   replicas (each rebuilds the session from its sealed id on first sight);
 * - seal_open: µs per open of a sealed id (AES-256-GCM, JSON, schema), in this process.
 * The CPU per request of "three" is the sum over its three replicas.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HAPROXY, haproxyConfig, haproxyStates } from '../../scripts/lib/haproxy.mjs';
import { freePort } from '../../scripts/lib/net.mjs';
import { startPostgres } from '../../scripts/lib/postgres.mjs';
import { postLoad, rpcBody, sdkLoop } from './load.mjs';
import { cpuMs, GATEWAY_ENTRY, GATEWAY_NODE_ARGS, processSet, REPO_ROOT, toolName, waitFor } from './mesh.mjs';
import { interleaved as interleave } from './rounds.mjs';
import { ratio } from './stats.mjs';

export const REPLICA_WORKLOADS = ['replicas_call', 'replicas_sdk', 'seal_open'];

const url = (port) => `http://127.0.0.1:${port}`;

/** HAProxy in the foreground over `backends`; resolves once it counts them all up. */
async function startHaproxy(pinning, dir, name, backends) {
  const [port, statsPort] = [await freePort(), await freePort()];
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, haproxyConfig(port, statsPort, backends));
  const command = [...pinning.prefix, HAPROXY, '-db', '-f', file];
  const child = spawn(command[0], command.slice(1), { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('close', resolve));
  await waitFor(`haproxy ${name} counting its replicas up`, async () => {
    const states = await haproxyStates(statsPort);
    return backends.every((b) => states[b.name] === 'UP');
  });
  return {
    url: url(port),
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** µs per open of a sealed id, over `count` opens, with the built gateway's sealer. */
async function sealOpenMicros(count) {
  const { SessionSealer } = await import(pathToFileURL(join(REPO_ROOT, 'packages/gateway/dist/session/sealed.js')).href);
  const sealer = new SessionSealer([randomBytes(32), randomBytes(32)]);
  const handshake = {
    protocolVersion: '2025-11-25',
    clientCapabilities: { sampling: {}, roots: { listChanged: true } },
    offered: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {} },
    clientInfo: { name: 'bench', version: '1.0.0' },
  };
  const ids = Array.from({ length: 64 }, () => sealer.seal('bench-client', handshake).id);
  for (let i = 0; i < 2000; i += 1) sealer.open(ids[i % ids.length]); // warm-up
  const t0 = process.hrtime.bigint();
  let opened = 0;
  for (let i = 0; i < count; i += 1) if (sealer.open(ids[i % ids.length]) !== undefined) opened += 1;
  const micros = Number(process.hrtime.bigint() - t0) / 1000 / count;
  return { micros, errors: count - opened, idChars: ids[0].length };
}

/** Runs the wanted replica workloads; returns { workloads, seal, targets }. */
export async function runReplicas({ wanted, plan, smoke, pinning, log, show }) {
  const workloads = {};
  let seal;
  if (wanted('seal_open')) {
    seal = await sealOpenMicros(smoke ? 5_000 : 200_000);
    log(`seal_open: ${seal.micros.toFixed(2)} µs per open of a ${seal.idChars}-character id`);
  }
  if (wanted('replicas_call') || wanted('replicas_sdk')) {
    const token = randomBytes(18).toString('base64url');
    const dir = mkdtempSync(join(tmpdir(), 'meshgate-bench-replicas-'));
    const { start, stop } = processSet(pinning, dir);
    const balancers = [];
    let postgres;
    try {
      log('replicas: starting PostgreSQL for the shared registry, session state and bus');
      postgres = await startPostgres();
      const databaseUrl = await postgres.createDatabase();
      const backendPort = await freePort();
      const backend = await start({
        name: 'replicas backend b00',
        script: join(REPO_ROOT, 'bench/backend.mjs'),
        env: { MCP_BEARER_TOKEN: token, BENCH_TOOLS: '10', BENCH_BACKENDS: `b00:${backendPort}` },
        healthUrl: `${url(backendPort)}/health`,
      });
      const configPath = join(dir, 'services.json');
      writeFileSync(configPath, JSON.stringify({ services: [{ name: 'b00', url: `${url(backendPort)}/mcp`, credential: { gateway: true } }] }));
      const keys = randomBytes(32).toString('base64');
      const secretKey = randomBytes(32).toString('base64');
      const replicas = [];
      for (const name of ['gw1', 'gw2', 'gw3']) {
        const port = await freePort();
        const proc = await start({
          name: `replica ${name}`,
          script: GATEWAY_ENTRY,
          nodeArgs: GATEWAY_NODE_ARGS,
          env: {
            PORT: String(port),
            MESHGATE_DB_PATH: join(dir, `${name}.db`),
            MESHGATE_DATABASE_URL: databaseUrl,
            MESHGATE_SECRET_KEY: secretKey,
            MESHGATE_CONFIG: configPath,
            MCP_BEARER_TOKEN: token,
            MESHGATE_SESSION_KEYS: keys,
          },
          healthUrl: `${url(port)}/health`,
        });
        await waitFor(`b00 up in replica ${name}`, async () => (await (await fetch(`${url(port)}/health`)).json()).services?.b00?.status === 'up');
        replicas.push({ name, port, pid: proc.pid });
      }
      log('replicas: starting HAProxy over one replica and over three');
      const one = await startHaproxy(pinning, dir, 'one', replicas.slice(0, 1));
      balancers.push(one);
      const three = await startHaproxy(pinning, dir, 'three', replicas);
      balancers.push(three);
      const urls = { one: one.url, three: three.url };
      const pids = { one: [replicas[0].pid], three: replicas.map((r) => r.pid) };
      // The gateways' CPU per request: the one replica's, or the three's together.
      const withCpu = (config, load) => async () => {
        const before = pids[config].map(cpuMs);
        const run = await load();
        const used = pids[config].reduce((sum, pid, i) => sum + cpuMs(pid) - before[i], 0);
        run[`${config}CpuUs`] = run.requests > 0 ? (used * 1000) / run.requests : NaN;
        return run;
      };
      const watched = { backendCpuUs: backend.pid };
      const interleaved = (title, load) =>
        interleave({ title, configs: ['one', 'three'], rounds: plan.rounds, watched, load: (config) => withCpu(config, () => load(config))(), log, show });
      const CALL = rpcBody('tools/call', { name: toolName('b00', 0), arguments: { id: '42' } });
      for (const config of ['one', 'three']) await postLoad({ baseUrl: urls[config], token, body: CALL, connections: 8, seconds: plan.warmup });
      if (wanted('replicas_call')) {
        workloads.replicas_call = await interleaved('tools/call, c=32, through HAProxy: one replica vs three', (config) =>
          postLoad({ baseUrl: urls[config], token, body: CALL, connections: 32, seconds: plan.seconds }),
        );
      }
      if (wanted('replicas_sdk')) {
        workloads.replicas_sdk = await interleaved('SDK session loop through HAProxy: one replica vs three (sealed ids)', (config) =>
          sdkLoop({ baseUrl: urls[config], token, tool: toolName('b00', 0), seconds: plan.sdkSeconds }),
        );
      }
    } finally {
      await Promise.allSettled(balancers.map((b) => b.stop()));
      await stop();
      await postgres?.stop();
    }
  }
  return { workloads, seal, targets: replicaTargets(workloads, seal) };
}

function replicaTargets(w, seal) {
  const out = [];
  if (seal) {
    out.push({
      id: 'seal_open',
      // Paid once per session and replica (then the session is cached), against a gateway CPU of several hundred µs per call.
      text: 'opening a sealed session id (first sight on a replica): < 100 µs',
      value: seal.micros,
      measured: `${seal.micros.toFixed(2)} µs per open (${seal.idChars}-character id)`,
      met: seal.micros < 100 && seal.errors === 0,
    });
  }
  for (const key of ['replicas_call', 'replicas_sdk']) {
    const configs = w[key]?.configs;
    if (!configs) continue;
    const throughput = ratio(configs.three.rps, configs.one.rps);
    const cpu = ratio(configs.three.threeCpuUs, configs.one.oneCpuUs);
    out.push({
      id: `${key}_ratio`,
      text: `${w[key].title}: three replicas' gateway CPU per request within 1.25× one's (same machine, so req/s is bound by its cores)`,
      value: cpu,
      measured: `req/s ×${throughput.toFixed(2)}; CPU per request ${configs.three.threeCpuUs.toFixed(0)} vs ${configs.one.oneCpuUs.toFixed(0)} µs (×${cpu.toFixed(2)})`,
      met: cpu <= 1.25,
    });
  }
  return out;
}
