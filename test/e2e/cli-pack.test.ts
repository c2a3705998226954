/**
 * The CLI as a user installs it: `npm pack` of packages/cli, `npm install <tarball>` into
 * an empty folder (from the npm registry, or npm's cache), then `npx meshgate` there. The
 * package must not depend on the unpublished workspace packages: `up` and `config check`
 * load the gateway lazily and say clearly that it is not installed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/process.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with npm's own per-script variables removed, so a test run by `npm test` cannot point npm back at this repository. */
function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Ran> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...env, MESHGATE_CLI_CONFIG: join(cwd, 'none.json') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the packed CLI', () => {
  it('installs into an empty folder from its tarball, and npx meshgate works there without the workspace packages', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'meshgate-cli-install-'));
    const packed = await run('npm', ['pack', '--pack-destination', folder], join(REPO_ROOT, 'packages/cli'));
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = readdirSync(folder).find((name) => name.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    const installed = await run('npm', ['install', `./${tarball}`, '--no-audit', '--no-fund', '--prefer-offline'], folder);
    expect(installed.code, installed.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(folder, 'node_modules/@meshgate/cli/package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies).filter((name) => name.startsWith('@meshgate/'))).toEqual([]);

    const help = await run('npx', ['--no-install', 'meshgate', '--help'], folder);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: meshgate <command> [options]');

    const up = await run('npx', ['--no-install', 'meshgate', 'up'], folder);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('up needs @meshgate/gateway, which is not installed here');
    const check = await run('npx', ['--no-install', 'meshgate', 'config', 'check'], folder);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('config check needs the gateway package @meshgate/gateway, which is not installed here');
  }, 240_000);
});
