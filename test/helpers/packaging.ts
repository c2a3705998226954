/**
 * What the static packaging checks share: the services and their ports, parsers for
 * compose values, Dockerfiles and .dockerignore, command runners, and a stand-in /health
 * endpoint to run the healthcheck one-liners against.
 */

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const DEFAULT_TOKEN = 'mcp-token-123';

export interface ServiceSpec {
  /** compose service name */
  service: string;
  /** folder under packages/ */
  pkg: string;
  port: number;
}

export const GATEWAY: ServiceSpec = { service: 'mcp-gateway', pkg: 'gateway', port: 3001 };
export const SHOPPING: ServiceSpec = { service: 'shopping-service', pkg: 'shopping-service', port: 3002 };
export const USER: ServiceSpec = { service: 'user-service', pkg: 'user-service', port: 3003 };
export const SERVICES: readonly ServiceSpec[] = [GATEWAY, SHOPPING, USER];

export const CI = Boolean(process.env.CI) && !['false', '0'].includes(String(process.env.CI).toLowerCase());

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

export type Dict = Record<string, unknown>;

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function dict(v: unknown, what: string): Dict {
  if (!isDict(v)) throw new Error(`${what} should be a mapping, got ${JSON.stringify(v)}`);
  return v;
}

/** compose `environment:` as a map, whether written as a map or as a KEY=VALUE list */
export function envOf(service: Dict): Record<string, string> {
  const env = service.environment;
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const item of env) {
      const s = String(item);
      const i = s.indexOf('=');
      if (i > 0) out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (isDict(env)) {
    for (const [k, v] of Object.entries(env)) out[k] = v === null || v === undefined ? '' : String(v);
  }
  return out;
}

/** compose `ports:` (short "H:C", "IP:H:C" or long syntax) as {published, target} pairs */
export function portsOf(service: Dict): Array<{ published: number; target: number }> {
  const ports = service.ports;
  if (!Array.isArray(ports)) return [];
  return ports.map((p) => {
    if (isDict(p)) return { published: Number(p.published), target: Number(p.target) };
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts[parts.length - 1]);
    const published = parts.length >= 2 ? Number(parts[parts.length - 2]) : NaN;
    return { published, target };
  });
}

/** compose healthcheck `test:` -> argv to exec locally */
export function healthArgv(test: unknown): string[] {
  if (typeof test === 'string') return ['sh', '-c', test];
  if (!Array.isArray(test) || test.length < 2) throw new Error(`unusable healthcheck test ${JSON.stringify(test)}`);
  const [kind, ...rest] = test.map(String);
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return ['sh', '-c', rest.join(' ')];
  throw new Error(`healthcheck test must start with CMD or CMD-SHELL, got ${kind}`);
}

export const FETCHERS = /\b(curl|wget)\b/i;

export function runCapture(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

export function runAsync(argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<number | null> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty argv');
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res(code);
    });
  });
}

/** Environment for compose CLIs: no inherited token / COMPOSE_* overrides, so results are deterministic. */
export function composeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('COMPOSE_') || k === 'MCP_BEARER_TOKEN' || k === 'LOG_LEVEL') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function available(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return !r.error && r.status === 0;
}

export const HAS_COMPOSE_V1 = available('docker-compose', ['version']);
export const HAS_COMPOSE_V2 = available('docker', ['compose', 'version']);
export const MISSING_V1 = 'the `docker-compose` binary is not installed: run `apt-get install -y docker-compose` ' + '(.ci/run does this before the tests)';

/** Fail in CI, skip (with the reason) locally, when docker-compose is missing. */
export function needComposeV1(ctx: { skip: (note?: string) => never }): void {
  if (HAS_COMPOSE_V1) return;
  if (CI) throw new Error(MISSING_V1);
  ctx.skip(`skipped outside CI: ${MISSING_V1}`);
}

export function workspaces(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces?: string[] };
  return pkg.workspaces ?? [];
}

/**
 * A stand-in /health endpoint that the healthcheck one-liners are pointed at, started for
 * the calling test file. Returns the check: healthy exits 0 (and really asks /health),
 * a 503 and nothing listening exit non-zero.
 */
export function useHealthcheckStandIn(): (test: unknown, label: string) => Promise<void> {
  let healthStatus = 200;
  let healthHits = 0;
  let server: Server | undefined;
  let serverPort = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/health') {
        healthHits += 1;
        res.writeHead(healthStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: healthStatus === 200 ? 'ok' : 'down' }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    serverPort = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  async function expectHealthcheckWorks(test: unknown, label: string): Promise<void> {
    const argv = healthArgv(test);
    const env = { ...process.env, PORT: String(serverPort) };

    healthStatus = 200;
    const hitsBefore = healthHits;
    expect(await runAsync(argv, env), `${label}: exit code against a healthy /health`).toBe(0);
    expect(healthHits, `${label}: must actually request /health on 127.0.0.1:$PORT`).toBeGreaterThan(hitsBefore);

    healthStatus = 503;
    expect(await runAsync(argv, env), `${label}: exit code against a 503 /health`).not.toBe(0);
    healthStatus = 200;

    // a port nobody listens on: the check must fail, not hang or pass
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await runAsync(argv, { ...process.env, PORT: String(deadPort) }), `${label}: exit code with nothing listening`).not.toBe(0);
  }
  return expectHealthcheckWorks;
}
