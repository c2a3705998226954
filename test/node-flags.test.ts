/**
 * The gateway's V8 flags (docs/decisions/0004-gateway-heap.md) are written in several places
 * that start it: its image's CMD, the compose replicas' command, `npm start`
 * (scripts/start.mjs), the package's `start` script, `meshgate up` and the benchmark. They
 * must be the same everywhere, or the benchmark measures a gateway nobody runs; the docs
 * that quote them must quote the same. They go on node's command line: NODE_OPTIONS refuses
 * two of them, so a launcher that put them there would not start the gateway at all.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

/** The `--flag` words of a command line or a flag list as written in a file. */
const flagsIn = (text: string) => [...text.matchAll(/--[a-z][a-z-]*(?:=[\w.]+)?/g)].map((match) => match[0]);

/** The one line of `file` that `marker` finds, which must exist. */
function lineOf(file: string, marker: RegExp): string {
  const line = read(file)
    .split('\n')
    .find((candidate) => marker.test(candidate));
  if (line === undefined) throw new Error(`${file}: no line matches ${marker}`);
  return line;
}

describe('the gateway node flags', () => {
  // The benchmark's list is the reference; every other place must say the same.
  const shipped = flagsIn(lineOf('bench/lib/mesh.mjs', /^export const GATEWAY_NODE_ARGS = /));

  it('are a young-generation and an old-generation setting, and pretenuring off', () => {
    expect(shipped.some((flag) => flag.startsWith('--min-semi-space-size='))).toBe(true);
    expect(shipped.some((flag) => flag.startsWith('--heap-growing-percent='))).toBe(true);
    expect(shipped).toContain('--no-allocation-site-pretenuring');
  });

  it.each([
    ['packages/gateway/Dockerfile', /^CMD \["node"/],
    ['docker-compose.yml', /exec node .*packages\/gateway\/dist\/main\.js/],
    ['packages/gateway/package.json', /"start":/],
    ['scripts/start.mjs', /packages\/gateway\/dist\/main\.js/],
    ['packages/cli/src/commands/up.ts', /const GATEWAY_NODE_FLAGS/],
    ['docs/configuration.md', /^The gateway is started with `node /],
    ['docs/cli.md', /^Runs the gateway \(`node /],
  ])('are the same in %s', (file, marker) => {
    expect(flagsIn(lineOf(file, marker))).toEqual(shipped);
  });

  it('start node on its command line, and NODE_OPTIONS would refuse them', () => {
    const onCommandLine = spawnSync(process.execPath, [...shipped, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(onCommandLine.stderr).toBe('');
    expect(onCommandLine.status).toBe(0);
    const inOptions = spawnSync(process.execPath, ['-e', 'process.exit(0)'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: shipped.join(' ') } });
    expect(inOptions.status).not.toBe(0);
    expect(inOptions.stderr).toContain('is not allowed in NODE_OPTIONS');
    expect(read('packages/gateway/Dockerfile')).not.toMatch(/NODE_OPTIONS=/);
  });
});
