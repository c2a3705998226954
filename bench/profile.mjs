#!/usr/bin/env node
/**
 * npm run bench:profile [-- --seconds N] [-- --workload call|modern|list|session] [-- --connections C] [-- --backends B]
 *
 * Starts the benchmark mesh with the gateway under `node --cpu-prof`, drives sessionless
 * tools/call at c=32 (or the same call in the 2026-07-28 revision: `modern`; or tools/list over 1,000 tools, or an SDK client calling a tool in
 * one session: `session`), stops the gateway so it writes
 * its profile, and prints the functions with the most self time.
 * Writes bench/results/profile-<workload>.json (top functions) next to the raw .cpuprofile.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { modernCall, postLoad, rpcBody, sdkLoop } from './lib/load.mjs';
import { choosePinning, REPO_ROOT, startBenchMesh, toolName } from './lib/mesh.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : fallback;
};
const seconds = Number(option('seconds', '15'));
/** How many backends the gateway federates (10 by default; 100 to see what a wide federation costs per call). */
const backends = Number(option('backends', '10'));
const workload = option('workload', 'call');
const outDir = process.env.BENCH_OUT_DIR ?? join(REPO_ROOT, 'bench/results');
const connections = workload === 'session' ? 1 : Number(option('connections', workload === 'list' ? '1' : '32'));
const label = `${workload}-c${connections}${backends === 10 ? '' : `-b${backends}`}`;
const profileDir = join(outDir, `cpuprofile-${label}`);
rmSync(profileDir, { recursive: true, force: true });
mkdirSync(profileDir, { recursive: true });

const log = (message) => console.log(`[profile] ${message}`);
const pinning = choosePinning(!argv.includes('--no-pin'));
const mesh = await startBenchMesh({ backends, pinning, log, gatewayNodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] });
const modern = modernCall(toolName('b00', 0), { id: '42' });
const body =
  workload === 'list'
    ? rpcBody('tools/list')
    : workload === 'modern'
      ? modern.body
      : rpcBody('tools/call', { name: toolName('b00', 0), arguments: { id: '42' } });
const headers = workload === 'modern' ? modern.headers : {};
let run;
try {
  log(`${workload} at c=${connections} for ${seconds} s through the gateway`);
  run =
    workload === 'session'
      ? await sdkLoop({ baseUrl: mesh.urls.gateway, token: mesh.token, tool: toolName('b00', 0), seconds })
      : await postLoad({ baseUrl: mesh.urls.gateway, token: mesh.token, body, headers, connections, seconds });
  log(`${Math.round(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, errors ${run.errors}`);
} finally {
  await mesh.stop();
}

const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`the gateway wrote no profile into ${profileDir}`);
const { top, areas } = selfTime(JSON.parse(readFileSync(join(profileDir, file), 'utf8')), 30);
writeFileSync(
  join(outDir, `profile-${label}.json`),
  `${JSON.stringify({ workload, connections, seconds, run, profile: relative(REPO_ROOT, join(profileDir, file)), areas, top }, null, 2)}\n`,
);
const print = (rows, label) => {
  console.log(`\nself ms   self %  ${label}`);
  for (const row of rows) console.log(`${row.selfMs.toFixed(0).padStart(7)}  ${row.selfPct.toFixed(1).padStart(6)}  ${row.name}`);
};
print(areas, 'area (package or runtime part)');
print(
  top.map((row) => ({ ...row, name: `${row.function} (${row.location})` })),
  'function (location)',
);

/**
 * Self time from a V8 .cpuprofile, summed per function and per area: a package under
 * node_modules, one of the repo's packages, a part of Node's runtime, or V8's own
 * (garbage collector), (program) and (idle). Idle time is left out of the percentages.
 */
function selfTime(profile, limit) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const perFunction = new Map();
  const perArea = new Map();
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  for (let i = 0; i < profile.samples.length; i += 1) {
    const { functionName, url, lineNumber } = byId.get(profile.samples[i]).callFrame;
    if (functionName === '(idle)') continue;
    const us = profile.timeDeltas[i] ?? 0;
    const where = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`;
    add(perFunction, `${functionName || '(anonymous)'}\u0000${where}`, us);
    add(perArea, area(functionName, url), us);
  }
  const total = [...perArea.values()].reduce((sum, us) => sum + us, 0);
  const rows = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]).map(([key, us]) => ({ key, selfMs: us / 1000, selfPct: (100 * us) / total }));
  return {
    areas: rows(perArea).map(({ key, ...row }) => ({ name: key, ...row })),
    top: rows(perFunction)
      .slice(0, limit)
      .map(({ key, ...row }) => {
        const [fn, location] = key.split('\u0000');
        return { function: fn, location, ...row };
      }),
  };
}

function area(functionName, url) {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native (V8 builtins, syscalls)';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const parts = path.slice(inModules + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (path.startsWith('node:')) {
    const internal = path.replace(/^node:(internal\/)?/, '').split('/');
    return `node:${internal[0] === 'deps' ? internal.slice(0, 2).join('/') : internal[0]}`;
  }
  const repo = relative(REPO_ROOT, path).split('/');
  return repo[0] === 'packages' ? `packages/${repo[1]}` : repo[0];
}

function shorten(url) {
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  return inModules >= 0 ? path.slice(inModules + 14) : relative(REPO_ROOT, path);
}
