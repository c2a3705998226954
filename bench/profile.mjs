#!/usr/bin/env node
/**
 * npm run bench:profile [-- --seconds N] [-- --workload call|list]
 *
 * Starts the benchmark mesh with the gateway under `node --cpu-prof`, drives sessionless
 * tools/call at c=32 (or tools/list over 1,000 tools), stops the gateway so it writes
 * its profile, and prints the functions with the most self time.
 * Writes bench/results/profile-<workload>.json (top functions) next to the raw .cpuprofile.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { postLoad, rpcBody } from './lib/load.mjs';
import { REPO_ROOT, choosePinning, startBenchMesh, toolName } from './lib/mesh.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : fallback;
};
const seconds = Number(option('seconds', '15'));
const workload = option('workload', 'call');
const outDir = process.env.BENCH_OUT_DIR ?? join(REPO_ROOT, 'bench/results');
const profileDir = join(outDir, `cpuprofile-${workload}`);
rmSync(profileDir, { recursive: true, force: true });
mkdirSync(profileDir, { recursive: true });

const log = (message) => console.log(`[profile] ${message}`);
const pinning = choosePinning(!argv.includes('--no-pin'));
const mesh = await startBenchMesh({ pinning, log, gatewayNodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] });
const body = workload === 'list' ? rpcBody('tools/list') : rpcBody('tools/call', { name: toolName('b00', 0), arguments: { id: '42' } });
const connections = workload === 'list' ? 1 : 32;
let run;
try {
  log(`${workload} at c=${connections} for ${seconds} s through the gateway`);
  run = await postLoad({ baseUrl: mesh.urls.gateway, token: mesh.token, body, connections, seconds });
  log(`${Math.round(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, errors ${run.errors}`);
} finally {
  await mesh.stop();
}

const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`the gateway wrote no profile into ${profileDir}`);
const top = topSelfTime(JSON.parse(readFileSync(join(profileDir, file), 'utf8')), 30);
writeFileSync(join(outDir, `profile-${workload}.json`), `${JSON.stringify({ workload, connections, seconds, run, profile: relative(REPO_ROOT, join(profileDir, file)), top }, null, 2)}\n`);
console.log('\nself ms   self %  function (location)');
for (const row of top) console.log(`${row.selfMs.toFixed(0).padStart(7)}  ${row.selfPct.toFixed(1).padStart(6)}  ${row.function} (${row.location})`);

/** Self time per function (summed over its nodes) from a V8 .cpuprofile. */
function topSelfTime(profile, limit) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i]);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}\u0000${where}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((sum, us) => sum + us, 0);
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, us]) => {
      const [fn, location] = key.split('\u0000');
      return { function: fn, location, selfMs: us / 1000, selfPct: (100 * us) / total };
    });
}

function shorten(url) {
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  return inModules >= 0 ? path.slice(inModules + 14) : relative(REPO_ROOT, path);
}
