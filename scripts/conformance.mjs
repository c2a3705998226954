#!/usr/bin/env node
/**
 * `npm run conformance`: runs the official MCP conformance suite's server scenarios
 * against the conformance fixture directly and through the gateway, writes
 * conformance/results/latest.{md,json} (both git-ignored) and exits 1 on a regression (see report.mjs)
 * or when a CLI lists a server scenario that no suite ran (see suites.mjs).
 * Build first (`npm run conformance` does). Environment:
 *   CONFORMANCE_NODE           a Node >= 22 binary to run the suite with (else fetched)
 *   CONFORMANCE_GATEWAY_ENTRY  gateway entry to test (default packages/gateway/dist/main.js)
 *   CONFORMANCE_SUITES         comma-separated suite ids to run (default: all)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureNode22 } from './conformance/node22.mjs';
import { compare, writeReport } from './conformance/report.mjs';
import { checkCoverage, runSuite, SUITES } from './conformance/suites.mjs';
import { startFixture, startGatewayTarget } from './conformance/targets.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = Date.now();
const elapsed = () => `t+${((Date.now() - started) / 1000).toFixed(1)}s`;
const say = (message) => console.log(`[conformance ${elapsed()}] ${message}`);

const node = ensureNode22(root);
const suiteNode = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
say(`suite runs under node ${suiteNode} (${node})`);
const wanted = process.env['CONFORMANCE_SUITES']?.split(',').map((id) => id.trim()) ?? SUITES.map((suite) => suite.id);
const suites = SUITES.filter((suite) => wanted.includes(suite.id));
const expected = JSON.parse(readFileSync(new URL('../conformance/expected-failures.json', import.meta.url), 'utf8'));

const fixture = await startFixture(root);
say(`fixture up at ${fixture.url}/mcp`);
let gateway;
try {
  gateway = await startGatewayTarget(root, fixture.url, process.env['CONFORMANCE_GATEWAY_ENTRY'] ?? 'packages/gateway/dist/main.js');
  say(`gateway up at ${gateway.gateway.url}, suite talks to it through ${gateway.url}`);
  const results = [];
  for (const suite of suites) {
    const direct = await runSuite(root, node, suite, `${fixture.url}/mcp`);
    say(`${suite.id} direct: ${summarize(direct)}`);
    const through = await runSuite(root, node, suite, gateway.url);
    say(`${suite.id} gateway: ${summarize(through)}`);
    results.push({ ...suite, direct, gateway: through });
  }
  // A subset run (CONFORMANCE_SUITES) cannot cover every scenario, so only the full run checks.
  const coverage = suites.length === SUITES.length ? await checkCoverage(root, node, results) : {};
  if (suites.length !== SUITES.length) say('coverage not checked: CONFORMANCE_SUITES selects a subset');
  const rows = compare(results, expected);
  const meta = { generatedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000, suiteNode };
  const summary = writeReport(root, { suites: results, rows, meta, coverage });
  for (const [cli, { listed, missing }] of Object.entries(coverage)) {
    say(`${cli}: ${listed.length} server scenarios listed: ${listed.join(', ')}`);
    if (missing.length > 0) say(`NOT RUN by any suite in scripts/conformance/suites.mjs: ${missing.join(', ')}`);
  }
  for (const row of rows.filter((r) => r.verdict === 'regression')) {
    const where = row.direct?.status === 'pass' ? 'through the gateway' : 'directly';
    say(`REGRESSION ${row.key} fails ${where}: ${(where === 'directly' ? row.direct : row.gateway)?.firstError ?? 'not run'}`);
  }
  for (const row of rows.filter((r) => r.verdict === 'stale')) say(`stale expectation ${row.key} passes now; remove it (${row.reason})`);
  const unrun = Object.values(coverage).reduce((sum, { missing }) => sum + missing.length, 0);
  say(
    `${summary.scenarios} scenarios: ${summary.directPass} pass directly, ${summary.gatewayPass} through the gateway, ` +
      `${summary.expected} expected failures, ${summary.regressions} regressions, ${unrun} listed but not run; report in conformance/results/latest.md`,
  );
  process.exitCode = summary.regressions > 0 || unrun > 0 ? 1 : 0;
} finally {
  await gateway?.stop();
  await fixture.stop();
}

function summarize(run) {
  const all = Object.values(run.scenarios);
  return `${all.filter((s) => s.status === 'pass').length}/${all.length} scenarios pass (${run.seconds.toFixed(1)} s)`;
}
