/**
 * Which conformance runs make up `npm run conformance`, and how one is run: the CLI
 * under Node 22 with `-o DIR`, then each scenario's `checks.json` read back. A scenario
 * passes when none of its checks is a FAILURE (warnings and infos do not fail it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SUITES = [
  {
    id: 'v0.1',
    title: '@modelcontextprotocol/conformance 0.1.16, all server scenarios (active and pending), 2025-11-25',
    cli: 'node_modules/@modelcontextprotocol/conformance/dist/index.js',
    args: ['--suite', 'all'],
  },
  {
    id: 'v0.2-session',
    title: '0.2.0-alpha.12: session lifecycle (2025-era sessions)',
    cli: 'node_modules/@modelcontextprotocol/conformance-alpha/dist/index.js',
    args: ['--scenario', 'server-session-lifecycle'],
  },
  {
    id: 'v0.2-2026-07-28',
    title: '0.2.0-alpha.12: everything the 2026-07-28 revision requires (--requirements 2026-07-28)',
    cli: 'node_modules/@modelcontextprotocol/conformance-alpha/dist/index.js',
    args: ['--requirements', '2026-07-28'],
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
  const log = await new Promise((resolve, reject) => {
    const child = spawn(node, [join(root, suite.cli), 'server', '--url', url, ...suite.args, '-o', out], {
      cwd: out, // the CLI writes nothing else, but keep any stray files out of the repo
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
  const scenarios = readResults(out);
  if (Object.keys(scenarios).length === 0) throw new Error(`${suite.id}: no results in ${out}; CLI output:\n${log.slice(-4000)}`);
  return { scenarios, seconds: (Date.now() - started) / 1000 };
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
