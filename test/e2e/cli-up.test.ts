/**
 * `meshgate up --demo`: the gateway and the seed's two services as child processes of the
 * CLI, reachable by the other commands, and all stopped by one SIGTERM to the CLI.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, runCli } from '../helpers/cli.js';
import { eventually, freePort, tempDbPath } from '../helpers/mesh.js';
import { REPO_ROOT } from '../helpers/process.js';

let child: ReturnType<typeof spawn> | undefined;
afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
});

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`)).ok;
  } catch {
    return false;
  }
}

describe('meshgate up --demo', () => {
  it('runs the gateway with shopping-service and user-service until SIGTERM stops all three', async () => {
    const [gatewayPort, shoppingPort, userPort] = [await freePort(), await freePort(), await freePort()];
    const up = spawn(
      process.execPath,
      [CLI_ENTRY, 'up', '--demo', '--port', String(gatewayPort), '--shopping-port', String(shoppingPort), '--user-port', String(userPort)],
      { cwd: REPO_ROOT, env: { ...process.env, MESHGATE_DB_PATH: tempDbPath(), LOG_FORMAT: 'json', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = up;
    let output = '';
    up.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    up.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => up.once('close', resolve));
    const url = `http://127.0.0.1:${gatewayPort}`;
    const env = { MESHGATE_URL: url };

    await eventually(
      'both demo services up behind the gateway',
      async () => {
        const status = await runCli(['status', '--json'], env);
        if (status.code !== 0) return false;
        const services = JSON.parse(status.stdout).health.services;
        return services['shopping-service']?.status === 'up' && services['user-service']?.status === 'up';
      },
      30_000,
    );
    expect(output).toContain(`Meshgate is up: ${url}/mcp with shopping-service and user-service`);
    // Each child's lines carry its name.
    expect(output).toMatch(/^\[mcp-gateway\s+\] \{/m);
    expect(output).toMatch(/^\[shopping-service\] \{/m);

    const call = await runCli(['call', 'getUserById', 'id=456'], env);
    expect(call.code).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ id: '456', name: 'Maria Garcia' });

    up.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const port of [gatewayPort, shoppingPort, userPort]) expect(await answers(`http://127.0.0.1:${port}`)).toBe(false);
  }, 60_000);

  it('refuses a port that is not a number as a usage error', async () => {
    const run = await runCli(['up', '--port', 'abc'], { MESHGATE_DB_PATH: join(REPO_ROOT, 'never.db') });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port must be a port number, not "abc"');
  });
});
