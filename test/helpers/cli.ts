/**
 * Runs the built `meshgate` command (packages/cli/dist/main.js) as a real process, the
 * way a person or a script does, and captures its output and exit code. The CLI's own
 * config file is pointed at a path that does not exist, so a developer's
 * ~/.config/meshgate/cli.json never leaks into a test.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './process.js';

export const CLI_ENTRY = join(REPO_ROOT, 'packages/cli/dist/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `meshgate <args>` with `env` on top of a clean environment (PATH and HOME kept); resolves when it exits. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', MESHGATE_CLI_CONFIG: join(REPO_ROOT, 'no-such-cli-config.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`meshgate ${args.join(' ')} did not exit within ${timeoutMs} ms. stderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
