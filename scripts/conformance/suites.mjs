/**
 * Which conformance runs make up `npm run conformance`, and how one is run: the CLI
 * under Node 22 with `-o DIR`, then each scenario's `checks.json` read back. A scenario
 * passes when none of its checks is a FAILURE (warnings and infos do not fail it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const V01 = 'node_modules/@modelcontextprotocol/conformance/dist/index.js';
const ALPHA = 'node_modules/@modelcontextprotocol/conformance-alpha/dist/index.js';

/**
 * Every server scenario of both CLIs, in four runs. `runs` holds one argument list per
 * CLI invocation. `checkCoverage` fails the run when a CLI lists a server scenario that
 * no suite of that CLI ran, so a scenario a new suite version adds cannot be skipped.
 */
export const SUITES = [
  {
    id: 'v0.1',
    title: '@modelcontextprotocol/conformance 0.1.16, all server scenarios (active and pending), 2025-11-25',
    cli: V01,
    runs: [['--suite', 'all']],
  },
  {
    id: 'v0.2-2025-11-25',
    title: '0.2.0-alpha.12: everything the 2025-11-25 revision requires, plus its pending and added-after-release scenarios (--requirements 2025-11-25)',
    cli: ALPHA,
    runs: [['--requirements', '2025-11-25']],
  },
  {
    id: 'v0.2-2026-07-28',
    title: '0.2.0-alpha.12: everything the 2026-07-28 revision requires, plus the tasks extension and pending scenarios (--requirements 2026-07-28)',
    cli: ALPHA,
    runs: [['--requirements', '2026-07-28']],
  },
  {
    id: 'v0.2-extensions',
    title: '0.2.0-alpha.12: the skills extension (SEP-2640), in no requirement set',
    cli: ALPHA,
    runs: ['sep-2640-skills-directory', 'sep-2640-skills-enumeration', 'sep-2640-skills-manifest'].map((scenario) => ['--scenario', scenario]),
  },
];

const SUITE_TIMEOUT_MS = 5 * 60_000;

/**
 * Runs one suite against `url`. Resolves with `{ scenarios: { name: { status, failed,
 * passed, warnings, firstError } }, seconds }`; the CLI's own exit code is not used.
 */
export async function runSuite(root, node, suite, url) {
  const out = mkdtempSync(join(tmpdir(), `conformance-${suite.id}-`));
  const started = Date.now();
  const logs = [];
  for (const args of suite.runs) logs.push(await runCli(root, node, [suite.cli, 'server', '--url', url, ...args, '-o', out], out));
  const scenarios = readResults(out);
  if (Object.keys(scenarios).length === 0) throw new Error(`${suite.id}: no results in ${out}; CLI output:\n${logs.join('\n').slice(-4000)}`);
  return { scenarios, seconds: (Date.now() - started) / 1000 };
}

/** Runs the CLI once under Node 22; resolves with its output (its exit code says nothing the checks do not). */
function runCli(root, node, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(root, args[0]), ...args.slice(1)], {
      cwd, // the CLI writes nothing else, but keep any stray files out of the repo
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/**
 * Every server scenario each CLI lists (`list --server`), and the ones no suite of that
 * CLI produced a result for: `{ cli: { listed: [...], missing: [...] } }`.
 */
export async function checkCoverage(root, node, results) {
  const coverage = {};
  for (const cli of new Set(SUITES.map((suite) => suite.cli))) {
    const listing = await runCli(root, node, [cli, 'list', '--server'], root);
    const listed = [...listing.matchAll(/^\s+- ([a-z0-9-]+)(?: \[|$)/gm)].map((match) => match[1]);
    if (listed.length === 0) throw new Error(`${cli} list --server printed no scenarios:\n${listing.slice(-2000)}`);
    const seen = new Set(
      results.filter((suite) => suite.cli === cli).flatMap((suite) => [...Object.keys(suite.direct.scenarios), ...Object.keys(suite.gateway.scenarios)]),
    );
    coverage[cli] = { listed, missing: listed.filter((scenario) => !seen.has(scenario)) };
  }
  return coverage;
}

/** Reads `server-<scenario>-<timestamp>/checks.json` folders written by the CLI. */
function readResults(dir) {
  const scenarios = {};
  for (const entry of readdirSync(dir)) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    const file = join(dir, entry, 'checks.json');
    if (!match || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8'));
    const failures = checks.filter((check) => check.status === 'FAILURE');
    scenarios[match[1]] = {
      status: failures.length === 0 ? 'pass' : 'fail',
      passed: checks.filter((check) => check.status === 'SUCCESS').length,
      failed: failures.length,
      warnings: checks.filter((check) => check.status === 'WARNING').length,
      firstError: failures.length === 0 ? undefined : `${failures[0].id}: ${failures[0].errorMessage ?? failures[0].description}`,
    };
  }
  return scenarios;
}
