/**
 * The scale workloads (issue 18): a second mesh of many backends (100 × 100 tools in a full
 * run), three gateways over it, and the rows that show what size costs:
 * - scale_list: tools/list over the whole catalog, one page of `pageSize` (reached with a
 *   cursor, the way a client walks the list) and the single answer of every tool;
 * - scale_call: tools/call at c=1 through a gateway of 2 backends and one of all of them,
 *   interleaved with direct, comparing the gateways' CPU per call;
 * - scale_sessions: initialize + notifications/initialized on the wide gateway and
 *   directly on the backend, comparing CPU per session;
 * - scale_memory: the wide gateway's RSS after start and with many idle sessions.
 * Backend b00 runs alone in its process (it takes the load); the others share a few.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/net.mjs';
import { closeSessions, isSuccess, postLoad, rpcBody, serialLoad, sessionLoad } from './load.mjs';
import { backendName, GATEWAY_ENTRY, GATEWAY_NODE_ARGS, processSet, REPO_ROOT, rssMiB, sleep, toolName, waitFor } from './mesh.mjs';
import { interleaved as interleave } from './rounds.mjs';
import { ratio } from './stats.mjs';

export const SCALE_WORKLOADS = ['scale_list', 'scale_call', 'scale_sessions', 'scale_memory'];

/** The sizes of a full run and of a smoke run (which proves the machinery, not the numbers). */
export const SCALE_PLANS = {
  full: { backends: 100, tools: 100, pageSize: 1000, idleSessions: 10_000, perProcess: 33 },
  smoke: { backends: 10, tools: 20, pageSize: 50, idleSessions: 200, perProcess: 9 },
};

const url = (port) => `http://127.0.0.1:${port}`;

/** Starts the backends and the gateways `narrow` (b00, b01), `wide` (all) and `whole` (all, one page). */
export async function startScaleMesh({ size, pinning, log }) {
  const token = randomBytes(18).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-bench-scale-'));
  const names = Array.from({ length: size.backends }, (_, index) => backendName(index));
  const ports = await Promise.all(names.map(() => freePort()));
  const { start, stop } = processSet(pinning, dir);
  try {
    log(`scale: starting ${size.backends} backends with ${size.tools} tools each`);
    const script = join(REPO_ROOT, 'bench/backend.mjs');
    const group = (from, to) => ({
      script,
      env: {
        MCP_BEARER_TOKEN: token,
        BENCH_TOOLS: String(size.tools),
        BENCH_BACKENDS: names
          .slice(from, to)
          .map((name, i) => `${name}:${ports[from + i]}`)
          .join(','),
      },
      healthUrl: `${url(ports[to - 1])}/health`,
    });
    const groups = [start({ name: 'scale backend b00', ...group(0, 1) })];
    for (let from = 1; from < size.backends; from += size.perProcess) {
      const to = Math.min(size.backends, from + size.perProcess);
      groups.push(start({ name: `scale backends ${names[from]}+`, ...group(from, to) }));
    }
    const [direct] = await Promise.all(groups);
    for (const port of ports) await waitFor(`backend on ${port}`, async () => (await fetch(`${url(port)}/health`)).ok);

    const gateway = async (name, services, env = {}) => {
      const configPath = join(dir, `${name}.json`);
      writeFileSync(
        configPath,
        JSON.stringify({
          services: services.map((service) => ({ name: service, url: `${url(ports[names.indexOf(service)])}/mcp`, credential: { gateway: true } })),
        }),
      );
      const port = await freePort();
      log(`scale: starting gateway ${name} over ${services.length} backends`);
      const proc = await start({
        name: `gateway ${name}`,
        script: GATEWAY_ENTRY,
        nodeArgs: GATEWAY_NODE_ARGS,
        env: {
          PORT: String(port),
          MESHGATE_DB_PATH: join(dir, `${name}.db`),
          MESHGATE_CONFIG: configPath,
          MCP_BEARER_TOKEN: token,
          MESHGATE_LIST_PAGE_SIZE: String(size.pageSize),
          MESHGATE_MAX_SESSIONS: String(size.idleSessions + 1000),
          MESHGATE_MAX_SESSIONS_PER_IDENTITY: String(size.idleSessions + 1000),
          ...env,
        },
        healthUrl: `${url(port)}/health`,
      });
      await waitFor(
        `every backend up in gateway ${name}`,
        async () => {
          const health = await (await fetch(`${url(port)}/health`)).json();
          return services.every((service) => health.services?.[service]?.status === 'up' && health.services[service].tools === size.tools);
        },
        60_000,
      );
      return { proc, url: url(port) };
    };
    const narrow = await gateway('narrow', names.slice(0, 2));
    const wide = await gateway('wide', names);
    const whole = await gateway('whole', names, { MESHGATE_LIST_PAGE_SIZE: String(size.backends * size.tools) });
    return {
      token,
      urls: { direct: url(ports[0]), narrow: narrow.url, wide: wide.url, whole: whole.url },
      procs: { direct, narrow: narrow.proc, wide: wide.proc, whole: whole.proc },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Runs the wanted scale workloads; returns { workloads, memory, meta, targets }.
 * `plan` gives rounds and seconds (as for the other workloads), `smoke` picks the sizes.
 */
export async function runScale({ wanted, plan, smoke, pinning, log, show }) {
  const size = smoke ? SCALE_PLANS.smoke : SCALE_PLANS.full;
  const total = size.backends * size.tools;
  const mesh = await startScaleMesh({ size, pinning, log });
  const { token, urls, procs } = mesh;
  const workloads = {};
  const memory = { backends: size.backends, tools: total };
  // whole_gzip is gateway `whole` again, asked for gzip.
  const watched = {
    backendCpuUs: procs.direct.pid,
    narrowCpuUs: procs.narrow.pid,
    wideCpuUs: procs.wide.pid,
    wholeCpuUs: procs.whole.pid,
    whole_gzipCpuUs: procs.whole.pid,
  };
  const interleaved = (title, configs, load) => interleave({ title, configs, rounds: plan.rounds, watched, load, log, show });
  try {
    memory.startMiB = rssMiB(procs.wide.pid);
    if (wanted('scale_memory')) {
      log(`scale: opening ${size.idleSessions} idle sessions on gateway wide`);
      const idle = await sessionLoad({ baseUrl: urls.wide, token, concurrency: 4, seconds: 900, max: size.idleSessions });
      await sleep(smoke ? 200 : 2000);
      const health = await (await fetch(`${urls.wide}/health`)).json();
      memory.idleSessions = health.sessions;
      memory.idleSessionsMiB = rssMiB(procs.wide.pid);
      memory.errors = idle.errors + (health.sessions >= size.idleSessions ? 0 : 1);
      log(`scale: gateway wide RSS ${memory.idleSessionsMiB.toFixed(1)} MiB with ${health.sessions} sessions open`);
      memory.errors += await closeSessions(urls.wide, token, idle.ids);
    }
    const CALL = rpcBody('tools/call', { name: toolName('b00', 0), arguments: { id: '42' } });
    log('scale: warming up');
    for (const config of ['direct', 'narrow', 'wide']) await postLoad({ baseUrl: urls[config], token, body: CALL, connections: 4, seconds: plan.warmup });

    if (wanted('scale_list')) {
      // A page in the middle, reached with the cursor a client following nextCursor gets there.
      let cursor;
      const pages = Math.ceil(total / size.pageSize);
      for (let page = 0; page < Math.floor(pages / 2); page += 1) {
        const answer = await (
          await fetch(`${urls.wide}/mcp`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
            body: rpcBody('tools/list', cursor === undefined ? undefined : { cursor }),
          })
        ).json();
        cursor = answer.result.nextCursor;
      }
      const pageBody = rpcBody('tools/list', cursor === undefined ? undefined : { cursor });
      const isPage = (message) => isSuccess(message) && message.result.tools.length === size.pageSize && typeof message.result.nextCursor === 'string';
      const isWhole = (message) => isSuccess(message) && message.result.tools.length === total && message.result.nextCursor === undefined;
      // `wide` answers one page of the paged list, `whole` (page size = every tool) the single answer,
      // uncompressed and (`whole_gzip`) gzipped.
      const listLoad = {
        wide: () => serialLoad({ baseUrl: urls.wide, token, body: pageBody, seconds: plan.seconds, check: isPage }),
        whole: () => serialLoad({ baseUrl: urls.whole, token, body: rpcBody('tools/list'), seconds: plan.seconds, check: isWhole }),
        // The same answer to a client that accepts gzip, as the SDKs' fetch does: timed to its last byte on the wire.
        whole_gzip: () =>
          serialLoad({
            baseUrl: urls.whole,
            token,
            body: rpcBody('tools/list'),
            seconds: plan.seconds,
            check: isWhole,
            headers: { 'accept-encoding': 'gzip, deflate, br' },
            encoding: 'gzip',
          }),
      };
      for (const load of Object.values(listLoad)) await load();
      workloads.scale_list = await interleaved(
        `tools/list, ${total} tools from ${size.backends} backends, c=1 (wide: a page of ${size.pageSize}; whole: one answer; whole_gzip: the same, gzipped)`,
        Object.keys(listLoad),
        (config) => listLoad[config](),
      );
    }
    if (wanted('scale_call')) {
      workloads.scale_call = await interleaved(`tools/call, c=1, 2 vs ${size.backends} backends`, ['direct', 'narrow', 'wide'], (config) =>
        postLoad({ baseUrl: urls[config], token, body: CALL, connections: 1, seconds: plan.seconds }),
      );
    }
    if (wanted('scale_sessions')) {
      workloads.scale_sessions = await interleaved(`new sessions, ${size.backends} backends, c=4`, ['direct', 'wide'], async (config) => {
        const run = await sessionLoad({ baseUrl: urls[config], token, concurrency: 4, seconds: plan.sessionSeconds, max: plan.sessionMax });
        const ids = run.ids;
        delete run.ids;
        run.errors += await closeSessions(urls[config], token, ids);
        return run;
      });
    }
    memory.afterLoadMiB = rssMiB(procs.wide.pid);
  } finally {
    await mesh.stop();
  }
  return { workloads, memory, size, targets: scaleTargets(workloads, memory, size) };
}

/** The targets of issue 18, from the scale rows. */
function scaleTargets(w, memory, size) {
  const total = size.backends * size.tools;
  const out = [];
  const list = w.scale_list?.configs;
  if (list) {
    const page = list.wide;
    const whole = list.whole;
    out.push({
      id: 'scale_list_page',
      text: `tools/list, one page of ${size.pageSize} of ${total} tools: p50 < 5 ms`,
      value: page.p50,
      measured: `${page.p50.toFixed(2)} ms`,
      met: page.p50 < 5,
    });
    out.push({
      id: 'scale_list_whole',
      text: `tools/list, one answer of ${total} tools: p50 < 10 ms`,
      value: whole.p50,
      measured: `${whole.p50.toFixed(2)} ms`,
      met: whole.p50 < 10,
    });
  }
  const call = w.scale_call?.configs;
  if (call) {
    const growth = ratio(call.wide.wideCpuUs, call.narrow.narrowCpuUs);
    out.push({
      id: 'scale_call_cpu',
      text: `tools/call, c=1: gateway CPU per call with ${size.backends} backends within 10% of 2 backends`,
      value: growth,
      measured: `${call.wide.wideCpuUs.toFixed(0)} vs ${call.narrow.narrowCpuUs.toFixed(0)} µs/call (${growth.toFixed(2)}×)`,
      met: growth <= 1.1,
    });
  }
  const sessions = w.scale_sessions?.configs;
  if (sessions) {
    const share = ratio(sessions.wide.wideCpuUs, sessions.direct.backendCpuUs);
    out.push({
      id: 'scale_session_cpu',
      text: `new sessions: gateway CPU per session (${size.backends} backends) within 1.5× the backend's own`,
      value: share,
      measured: `${sessions.wide.wideCpuUs.toFixed(0)} vs ${sessions.direct.backendCpuUs.toFixed(0)} µs/session (${share.toFixed(2)}×)`,
      met: share <= 1.5,
    });
  }
  if (Number.isFinite(memory.idleSessionsMiB)) {
    out.push({
      id: 'scale_rss',
      text: `gateway RSS < 200 MiB (${size.backends} backends, ${total} tools, ${size.idleSessions} idle sessions)`,
      value: memory.idleSessionsMiB,
      measured: `${memory.idleSessionsMiB.toFixed(1)} MiB with ${memory.idleSessions} sessions (${memory.startMiB.toFixed(1)} MiB after start)`,
      met: memory.idleSessionsMiB < 200 && memory.idleSessions >= size.idleSessions,
    });
  }
  return out;
}
