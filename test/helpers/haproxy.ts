/**
 * Debian's HAProxy in front of gateway replicas, for tests: round-robin, no stickiness,
 * health checks on each replica's /health, on an ephemeral port of 127.0.0.1. Every answer
 * carries `x-served-by: <server name>` (HAProxy's own record of which replica served it), so a
 * test can prove its requests landed on every replica. The same balancing as the compose
 * profile's deploy/haproxy/haproxy.cfg.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAPROXY, haproxyConfig, haproxyStates, SERVED_BY } from '../../scripts/lib/haproxy.mjs';
import { eventually } from './mesh.js';
import { freePort } from './process.js';

export { SERVED_BY };

export interface RunningHaproxy {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Each server's state as HAProxy's health checks see it, by name: 'UP', 'DOWN', ... */
  states(): Promise<Record<string, string>>;
  /** Resolves once HAProxy counts exactly `names` up (throws after `timeoutMs`). */
  waitForUp(names: readonly string[], timeoutMs?: number): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts HAProxy in the foreground (`-db`) and waits until it answers on its stats port. */
export async function startHaproxy(backends: readonly { name: string; port: number }[]): Promise<RunningHaproxy> {
  const [port, statsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, statsPort, backends));
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let captured = '';
  child.stdout?.on('data', (chunk: Buffer) => (captured += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (captured += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));

  const states = () => haproxyStates(statsPort);
  const stop = async () => {
    if (!done) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const running: RunningHaproxy = {
    url: `http://127.0.0.1:${port}`,
    states,
    output: () => captured,
    stop,
    waitForUp: async (names, timeoutMs = 15_000) => {
      const wanted = JSON.stringify([...names].sort());
      await eventually(
        `haproxy counting ${names.join(', ')} up`,
        async () => {
          if (done) throw new Error(`haproxy exited. Output:\n${captured}`);
          const now = await states().catch(() => ({}) as Record<string, string>);
          const up = Object.keys(now).filter((name) => now[name] === 'UP');
          return JSON.stringify(up.sort()) === wanted;
        },
        timeoutMs,
      );
    },
  };
  try {
    await eventually('haproxy answering on its stats port', async () => {
      if (done) throw new Error(`haproxy exited before it answered. Output:\n${captured}`);
      return (await states().catch(() => undefined)) !== undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return running;
}
