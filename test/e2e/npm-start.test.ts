/**
 * `npm start` survives a crash: `node scripts/start.mjs` (after the build) on ephemeral
 * ports, a steady load of shopping calls through the gateway, and user-service killed
 * with SIGKILL in the middle of it. Not one shopping call may fail; the gateway reports
 * user-service down; start.mjs restarts it and its calls succeed again without the gateway
 * restarting; SIGINT then ends everything, with no process left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, rpc, tempDbPath } from '../helpers/mesh.js';
import { freePort, REPO_ROOT } from '../helpers/process.js';

interface LogLine {
  name?: string;
  pid?: number;
  msg?: string;
  level?: number | string;
}

let child: ChildProcess | undefined;
const lines: LogLine[] = [];
let output = '';

afterAll(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  for (const pid of pidsOf()) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `root` now (Linux: parents from /proc/<pid>/stat), shells included. */
function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fourth field, after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) {
      if (parent !== pid) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** Every process id the services logged, by service name (pino puts `pid` on each line). */
function pidsOf(name?: string): number[] {
  const pids = lines.filter((line) => (name === undefined || line.name === name) && typeof line.pid === 'number').map((line) => line.pid as number);
  return [...new Set(pids)];
}

describe('npm start', () => {
  it('keeps serving when a service crashes, restarts it, and stops everything on SIGINT', async () => {
    const [gatewayPort, shoppingPort, userPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const gateway = `http://127.0.0.1:${gatewayPort}`;
    const started = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        LOG_FORMAT: 'json',
        GATEWAY_PORT: String(gatewayPort),
        SHOPPING_SERVICE_PORT: String(shoppingPort),
        USER_SERVICE_PORT: String(userPort),
        MESHGATE_DB_PATH: tempDbPath(),
        MESHGATE_RETRY_MAX_MS: '500',
        MESHGATE_PROBE_INTERVAL_MS: '500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let pending = '';
    started.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      pending += chunk.toString('utf8');
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        try {
          lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
    });
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));

    await eventually(
      'both services up behind the gateway',
      async () => {
        const health = (await (await fetch(`${gateway}/health`)).json()) as { services: Record<string, { status: string }> };
        return health.services['shopping-service']?.status === 'up' && health.services['user-service']?.status === 'up';
      },
      30_000,
    );
    const [firstUserPid] = pidsOf('user-service');
    const gatewayPids = pidsOf('mcp-gateway');
    expect(firstUserPid, output).toBeTypeOf('number');

    // The steady load: two shopping callers and one user caller, back to back.
    let loading = true;
    const shopping = { ok: 0, failed: [] as string[] };
    const user = { ok: 0, failed: 0, okAfterRestart: 0 };
    let restarted = false;
    const shoppingLoop = async () => {
      while (loading) {
        const { status, body } = await rpc(gateway, 'tools/call', { name: 'getProductById', arguments: { id: '123' } });
        if (status === 200 && body?.result?.structuredContent?.name === 'Aurora ANC Wireless Headphones') shopping.ok += 1;
        else shopping.failed.push(`${status} ${JSON.stringify(body)}`);
      }
    };
    const userLoop = async () => {
      while (loading) {
        const { body } = await rpc(gateway, 'tools/call', { name: 'getUserById', arguments: { id: '456' } });
        if (body?.result?.structuredContent?.name === 'Maria Garcia') {
          user.ok += 1;
          if (restarted) user.okAfterRestart += 1;
        } else user.failed += 1;
        await new Promise((wake) => setTimeout(wake, 5));
      }
    };
    const load = Promise.all([shoppingLoop(), shoppingLoop(), userLoop()]);
    await eventually('calls flowing', async () => shopping.ok > 20 && user.ok > 5);

    process.kill(firstUserPid as number, 'SIGKILL');
    // The gateway notices (a call meets a refused connection) and says so.
    await eventually('the gateway to report user-service down', async () =>
      lines.some((line) => line.name === 'mcp-gateway' && line.msg?.startsWith('service "user-service" is down') === true),
    );
    await eventually('user-service restarted by npm start', async () => pidsOf('user-service').some((pid) => pid !== firstUserPid && alive(pid)), 20_000);
    restarted = true;
    await eventually('user-service calls to succeed again', async () => user.okAfterRestart > 5, 20_000);
    loading = false;
    await load;

    expect(shopping.failed, 'shopping calls that failed').toEqual([]);
    expect(shopping.ok).toBeGreaterThan(20);
    expect(user.failed, 'user calls failed while it was down').toBeGreaterThan(0);
    // The gateway was never restarted: the same process served throughout.
    expect(pidsOf('mcp-gateway')).toEqual(gatewayPids);
    expect(gatewayPids.every(alive)).toBe(true);

    const tree = descendantsOf(started.pid as number);
    expect(tree.length).toBeGreaterThanOrEqual(3);
    started.kill('SIGINT');
    expect(await exited, output).toBe(0);
    const all = [...new Set([...pidsOf(), ...tree])];
    expect(pidsOf().length).toBeGreaterThanOrEqual(4); // three services, and the restarted one
    await eventually('every process to be gone', async () => all.every((pid) => !alive(pid)), 10_000);
  }, 120_000);
});
