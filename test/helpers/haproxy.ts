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
import { eventually } from './mesh.js';
import { freePort } from './process.js';

export const HAPROXY = '/usr/sbin/haproxy';
/** The header naming the replica that served an answer. */
export const SERVED_BY = 'x-served-by';

export interface Backend {
  /** Server name in HAProxy (and in `x-served-by`). */
  name: string;
  port: number;
}

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

/** The configuration: one frontend, one round-robin backend checked on /health, a stats page on its own port. */
export function haproxyConfig(port: number, statsPort: number, backends: readonly Backend[]): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // An event stream (a GET stream, a long call) stays open: no idle cut while it is quiet.
    '  timeout tunnel 1h',
    '  option http-server-close',
    `frontend mcp`,
    `  bind 127.0.0.1:${port}`,
    '  default_backend gateways',
    'backend gateways',
    '  balance roundrobin',
    // HTTP/1.1 with a Host the gateway accepts (its Host check refuses a request without one).
    '  option httpchk',
    '  http-check send meth GET uri /health ver HTTP/1.1 hdr Host localhost',
    '  http-check expect status 200',
    // A request that reached a replica which died is not sent again: only a failed connect is redispatched.
    '  retries 2',
    '  option redispatch',
    `  http-response set-header ${SERVED_BY} %[srv_name]`,
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check inter 250ms fall 2 rise 1`),
    'frontend stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n');
}

/** Starts HAProxy in the foreground (`-db`) and waits until it answers on its stats port. */
export async function startHaproxy(backends: readonly Backend[]): Promise<RunningHaproxy> {
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

  const states = async (): Promise<Record<string, string>> => {
    const response = await fetch(`http://127.0.0.1:${statsPort}/stats;csv`);
    const lines = (await response.text()).split('\n');
    const header = (lines[0] ?? '').replace(/^# /, '').split(',');
    const [pxname, svname, status] = ['pxname', 'svname', 'status'].map((column) => header.indexOf(column)) as [number, number, number];
    const found: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      if (cells[pxname] === 'gateways' && cells[svname] !== 'BACKEND' && cells[svname] !== undefined) found[cells[svname]] = cells[status] ?? '';
    }
    return found;
  };
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
