/**
 * Static checks of the container packaging: docker-compose.yml, the three
 * Dockerfiles and .dockerignore. No Docker engine is needed: `docker-compose
 * config` validates and interpolates the file without one, and the rest is
 * parsed here. The healthcheck commands are executed for real with the local
 * node against a throwaway HTTP server, so a broken one-liner fails here and
 * not in a container.
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const DEFAULT_TOKEN = 'mcp-token-123';

interface ServiceSpec {
  /** compose service name */
  service: string;
  /** folder under packages/ */
  pkg: string;
  port: number;
}

const GATEWAY: ServiceSpec = { service: 'mcp-gateway', pkg: 'gateway', port: 3001 };
const SHOPPING: ServiceSpec = { service: 'shopping-service', pkg: 'shopping-service', port: 3002 };
const USER: ServiceSpec = { service: 'user-service', pkg: 'user-service', port: 3003 };
const SERVICES: readonly ServiceSpec[] = [GATEWAY, SHOPPING, USER];

const CI = Boolean(process.env.CI) && !['false', '0'].includes(String(process.env.CI).toLowerCase());

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function dict(v: unknown, what: string): Dict {
  if (!isDict(v)) throw new Error(`${what} should be a mapping, got ${JSON.stringify(v)}`);
  return v;
}

/** compose `environment:` as a map, whether written as a map or as a KEY=VALUE list */
function envOf(service: Dict): Record<string, string> {
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
function portsOf(service: Dict): Array<{ published: number; target: number }> {
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
function healthArgv(test: unknown): string[] {
  if (typeof test === 'string') return ['sh', '-c', test];
  if (!Array.isArray(test) || test.length < 2) throw new Error(`unusable healthcheck test ${JSON.stringify(test)}`);
  const [kind, ...rest] = test.map(String);
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return ['sh', '-c', rest.join(' ')];
  throw new Error(`healthcheck test must start with CMD or CMD-SHELL, got ${kind}`);
}

const FETCHERS = /\b(curl|wget)\b/i;

function runCapture(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function runAsync(argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<number | null> {
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
function composeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('COMPOSE_') || k === 'MCP_BEARER_TOKEN' || k === 'LOG_LEVEL') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function available(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return !r.error && r.status === 0;
}

const HAS_COMPOSE_V1 = available('docker-compose', ['version']);
const HAS_COMPOSE_V2 = available('docker', ['compose', 'version']);
const MISSING_V1 = 'the `docker-compose` binary is not installed: run `apt-get install -y docker-compose` ' + '(.ci/run does this before the tests)';

/** Fail in CI, skip (with the reason) locally, when docker-compose is missing. */
function needComposeV1(ctx: { skip: (note?: string) => never }): void {
  if (HAS_COMPOSE_V1) return;
  if (CI) throw new Error(MISSING_V1);
  ctx.skip(`skipped outside CI: ${MISSING_V1}`);
}

// .dockerignore matching, close enough to Docker's rules: a path is excluded when it or
// one of its parent folders matches a pattern; later `!pattern` lines re-include.
function ignoreRegex(pattern: string): RegExp {
  const p = posix.normalize(pattern.replace(/^\.?\//, '')).replace(/\/$/, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p.charAt(i);
    if (c === '*' && p.charAt(i + 1) === '*') {
      if (p.charAt(i + 2) === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function dockerIgnored(path: string, patterns: string[]): boolean {
  const parts = posix.normalize(path).replace(/^\.\//, '').replace(/\/$/, '').split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = ignoreRegex(negate ? raw.slice(1) : raw);
    if (candidates.some((c) => re.test(c))) excluded = !negate;
  }
  return excluded;
}

function readDockerignore(): string[] {
  return readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

// Dockerfile parsing: enough for the instructions these files use.
interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let buf = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue; // comments (and parser directives)
    if (trimmed.endsWith('\\')) {
      buf += trimmed.slice(0, -1) + ' ';
      continue;
    }
    buf += trimmed;
    if (buf.trim() !== '') logical.push(buf.trim());
    buf = '';
  }
  if (buf.trim() !== '') logical.push(buf.trim());

  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l);
    if (!m) continue;
    const op = (m[1] ?? '').toUpperCase();
    const args = (m[2] ?? '').trim();
    if (op === 'FROM') {
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: fm?.[1] ?? args, name: fm?.[2], instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (current) current.instructions.push({ op, args });
  }
  return stages;
}

function ops(stage: Stage, op: string): Instruction[] {
  return stage.instructions.filter((i) => i.op === op);
}

interface CopyInstr {
  from: string | undefined;
  sources: string[];
  dest: string;
}

function parseCopy(args: string): CopyInstr {
  let rest = args;
  let from: string | undefined;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S+))?\s+(.*)$/.exec(rest);
    if (!m) break;
    if (m[1] === 'from') from = m[2];
    rest = m[3] ?? '';
  }
  const parts = rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : rest.trim().split(/\s+/);
  const dest = parts[parts.length - 1] ?? '';
  return { from, sources: parts.slice(0, -1), dest };
}

/** ENV parsing: `ENV K=V K2="v 2"` and the legacy `ENV K V` form */
function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!/^[^\s=]+=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
    return out;
  }
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(re)) {
    const k = m[1];
    let v = m[2] ?? '';
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    if (k) out[k] = v;
  }
  return out;
}

/** HEALTHCHECK [options] CMD ... -> compose-style test array */
function parseHealthcheck(args: string): { options: Record<string, string>; test: string[] } {
  const options: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s+(.*)$/.exec(rest);
    if (!m?.[1]) break;
    options[m[1]] = m[2] ?? '';
    rest = m[3] ?? '';
  }
  const cm = /^CMD\s+(.*)$/.exec(rest);
  if (!cm) throw new Error(`HEALTHCHECK must use CMD, got: ${rest}`);
  const cmd = (cm[1] ?? '').trim();
  if (cmd.startsWith('[')) return { options, test: ['CMD', ...(JSON.parse(cmd) as string[])] };
  return { options, test: ['CMD-SHELL', cmd] };
}

function workspaces(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces?: string[] };
  return pkg.workspaces ?? [];
}

// A stand-in /health endpoint the healthcheck one-liners are pointed at.
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

/** Execute a healthcheck against the stand-in server: healthy, unhealthy, and nothing listening. */
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

// ---------------------------------------------------------------------------
// 1 + 4: the compose CLIs accept the file (no engine needed for `config`)
// ---------------------------------------------------------------------------

describe('docker-compose CLI (Compose v1.29, Debian bookworm)', () => {
  let emptyEnvDir = '';
  let emptyEnvFile = '';
  beforeAll(() => {
    // --env-file: keep a developer's ./.env from leaking into the interpolation checks
    emptyEnvDir = mkdtempSync(join(tmpdir(), 'meshgate-compose-'));
    emptyEnvFile = join(emptyEnvDir, 'empty.env');
    writeFileSync(emptyEnvFile, '');
  });
  afterAll(() => {
    if (emptyEnvDir) rmSync(emptyEnvDir, { recursive: true, force: true });
  });

  function resolvedConfig(extra: Record<string, string>): Dict {
    const r = runCapture('docker-compose', ['--env-file', emptyEnvFile, 'config'], composeEnv(extra));
    expect(r.error, String(r.error)).toBeUndefined();
    expect(r.status, `docker-compose config failed:\n${r.stderr}`).toBe(0);
    return dict(parseYaml(r.stdout), 'docker-compose config output');
  }

  it('`docker-compose config -q` exits 0 in the repo root', (ctx) => {
    needComposeV1(ctx);
    const r = runCapture('docker-compose', ['config', '-q'], composeEnv());
    expect(r.error, String(r.error)).toBeUndefined();
    expect(r.status, `docker-compose config -q failed:\n${r.stderr}`).toBe(0);
  });

  it('resolves MCP_BEARER_TOKEN to mcp-token-123 by default, with the health ordering intact', (ctx) => {
    needComposeV1(ctx);
    const services = dict(resolvedConfig({}).services, 'services');
    for (const s of SERVICES) {
      const svc = dict(services[s.service], s.service);
      expect(envOf(svc).MCP_BEARER_TOKEN, s.service).toBe(DEFAULT_TOKEN);
      expect(envOf(svc).HOST, s.service).toBe('0.0.0.0');
      expect(portsOf(svc), s.service).toContainEqual({ published: s.port, target: s.port });
    }
    const deps = dict(dict(services[GATEWAY.service], GATEWAY.service).depends_on, 'mcp-gateway.depends_on');
    for (const s of [SHOPPING, USER]) {
      expect(dict(deps[s.service], `depends_on.${s.service}`).condition).toBe('service_healthy');
    }
  });

  it('passes a custom MCP_BEARER_TOKEN from the environment to all three services', (ctx) => {
    needComposeV1(ctx);
    const services = dict(resolvedConfig({ MCP_BEARER_TOKEN: 'custom-x' }).services, 'services');
    for (const s of SERVICES) {
      expect(envOf(dict(services[s.service], s.service)).MCP_BEARER_TOKEN, s.service).toBe('custom-x');
    }
  });
});

describe('docker compose CLI (Compose v2 plugin)', () => {
  it('`docker compose config -q` exits 0 in the repo root', (ctx) => {
    // Optional: Debian's docker CLI has no compose plugin; the v1 checks above are the required ones.
    ctx.skip(!HAS_COMPOSE_V2, 'the `docker compose` v2 plugin is not installed here (optional; docker-compose v1 is checked above)');
    const r = runCapture('docker', ['compose', 'config', '-q'], composeEnv());
    expect(r.error, String(r.error)).toBeUndefined();
    expect(r.status, `docker compose config -q failed:\n${r.stderr}`).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// 2: docker-compose.yml, parsed
// ---------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const compose = dict(parseYaml(readFileSync(COMPOSE_FILE, 'utf8')), 'docker-compose.yml');
  const services = dict(compose.services, 'services');
  const svc = (s: ServiceSpec): Dict => dict(services[s.service], `services.${s.service}`);

  it('defines exactly shopping-service, user-service and mcp-gateway', () => {
    expect(Object.keys(services).sort()).toEqual(SERVICES.map((s) => s.service).sort());
  });

  for (const s of SERVICES)
    it(`${s.service} builds packages/${s.pkg}/Dockerfile from the repo root`, () => {
      const build = dict(svc(s).build, `${s.service}.build`);
      expect(posix.normalize(String(build.context))).toBe('.');
      expect(posix.normalize(String(build.dockerfile))).toBe(`packages/${s.pkg}/Dockerfile`);
      expect(existsSync(join(ROOT, String(build.dockerfile))), `${build.dockerfile} must exist`).toBe(true);
    });

  for (const s of SERVICES)
    it(`${s.service} publishes ${s.port}:${s.port}`, () => {
      expect(portsOf(svc(s))).toContainEqual({ published: s.port, target: s.port });
    });

  for (const s of SERVICES)
    it(`${s.service} listens on 0.0.0.0:${s.port} and takes MCP_BEARER_TOKEN with default mcp-token-123`, () => {
      const env = envOf(svc(s));
      expect(env.HOST).toBe('0.0.0.0');
      expect(env.PORT).toBe(String(s.port));
      expect(env.MCP_BEARER_TOKEN).toBe(`\${MCP_BEARER_TOKEN:-${DEFAULT_TOKEN}}`);
    });

  for (const s of SERVICES)
    it(`${s.service} restarts unless-stopped`, () => {
      expect(svc(s).restart).toBe('unless-stopped');
    });

  for (const s of SERVICES)
    it(`${s.service} has a complete healthcheck that needs no curl or wget`, () => {
      const hc = dict(svc(s).healthcheck, `${s.service}.healthcheck`);
      expect(hc.disable).not.toBe(true);
      for (const key of ['test', 'interval', 'timeout', 'retries', 'start_period']) {
        expect(hc[key], `${s.service}.healthcheck.${key}`).toBeDefined();
      }
      const text = Array.isArray(hc.test) ? hc.test.join(' ') : String(hc.test);
      expect(text).not.toMatch(FETCHERS);
      expect(text).toContain('/health');
    });

  for (const s of SERVICES)
    it(`${s.service} healthcheck really passes on 200 and fails on 503 / no listener`, async () => {
      await expectHealthcheckWorks(dict(svc(s).healthcheck, 'healthcheck').test, `${s.service} compose healthcheck`);
    });

  it('mcp-gateway starts only after both services are healthy', () => {
    const deps = svc(GATEWAY).depends_on;
    // the long form is required: a list would only wait for the containers to start
    const d = dict(deps, 'mcp-gateway.depends_on (long form)');
    expect(Object.keys(d).sort()).toEqual([SHOPPING.service, USER.service].sort());
    for (const s of [SHOPPING, USER]) {
      expect(dict(d[s.service], `depends_on.${s.service}`).condition).toBe('service_healthy');
    }
  });

  it('mcp-gateway reaches the services by compose DNS name and port', () => {
    const env = envOf(svc(GATEWAY));
    expect(env.SHOPPING_SERVICE_URL).toBe(`http://${SHOPPING.service}:${SHOPPING.port}/mcp`);
    expect(env.USER_SERVICE_URL).toBe(`http://${USER.service}:${USER.port}/mcp`);
    expect(env.MESHGATE_ALLOW_PRIVATE_NETWORKS).toBe('true');
  });

  it('mcp-gateway keeps its SQLite file on the named volume meshgate-data', () => {
    const env = envOf(svc(GATEWAY));
    expect(env.MESHGATE_DB_PATH).toBe('/app/data/meshgate.db');
    const volumes = svc(GATEWAY).volumes;
    expect(Array.isArray(volumes)).toBe(true);
    const mounts = (volumes as unknown[]).map((v) =>
      isDict(v)
        ? { source: String(v.source), target: String(v.target) }
        : (() => {
            const [source = '', target = ''] = String(v).split(':');
            return { source, target };
          })(),
    );
    expect(mounts).toContainEqual({ source: 'meshgate-data', target: posix.dirname(env.MESHGATE_DB_PATH ?? '') });
    expect(Object.keys(dict(compose.volumes, 'top-level volumes'))).toContain('meshgate-data');
  });
});

// ---------------------------------------------------------------------------
// 3: the Dockerfiles, parsed
// ---------------------------------------------------------------------------

for (const s of SERVICES)
  describe(`packages/${s.pkg}/Dockerfile`, () => {
    const rel = `packages/${s.pkg}/Dockerfile`;
    const stages = parseDockerfile(readFileSync(join(ROOT, rel), 'utf8'));
    const final = stages[stages.length - 1];
    if (!final) throw new Error(`${rel} has no FROM`);
    const copies = stages.flatMap((st) => ops(st, 'COPY').map((i) => ({ stage: st, ...parseCopy(i.args) })));

    it('is multi-stage', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
    });

    it('runs the final stage as a non-root user', () => {
      const users = ops(final, 'USER');
      const last = users[users.length - 1];
      expect(last, 'final stage needs a USER instruction').toBeDefined();
      const user = (last?.args ?? '').split(':')[0];
      expect(['root', '0', '']).not.toContain(user);
    });

    it(`EXPOSEs ${s.port} and sets NODE_ENV=production, HOST=0.0.0.0, PORT=${s.port}`, () => {
      const exposed = ops(final, 'EXPOSE')
        .flatMap((i) => i.args.split(/\s+/))
        .map((p) => p.replace(/\/tcp$/, ''));
      expect(exposed).toContain(String(s.port));
      const env = Object.assign({}, ...ops(final, 'ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
      expect(env.NODE_ENV).toBe('production');
      expect(env.HOST).toBe('0.0.0.0');
      expect(env.PORT).toBe(String(s.port));
    });

    it(`CMD runs packages/${s.pkg}/dist/main.js with node`, () => {
      const cmds = ops(final, 'CMD');
      const cmd = cmds[cmds.length - 1];
      expect(cmd, 'final stage needs a CMD').toBeDefined();
      expect(JSON.parse(cmd?.args ?? 'null')).toEqual(['node', `packages/${s.pkg}/dist/main.js`]);
      // WORKDIR must make that relative path land where the dist is copied
      const workdirs = ops(final, 'WORKDIR');
      const workdir = workdirs[workdirs.length - 1]?.args ?? '/';
      const finalCopies = copies.filter((c) => c.stage === final).map((c) => posix.resolve(workdir, c.dest));
      expect(finalCopies).toContain(`${posix.resolve(workdir, `packages/${s.pkg}/dist`)}`);
      expect(finalCopies).toContain(`${posix.resolve(workdir, 'packages/service-kit/dist')}`);
      expect(finalCopies).toContain(`${posix.resolve(workdir, 'node_modules')}`);
      // the entry point that compiles to dist/main.js, and the outDir that puts it there
      expect(existsSync(join(ROOT, 'packages', s.pkg, 'src', 'main.ts')), `packages/${s.pkg}/src/main.ts`).toBe(true);
      expect(readFileSync(join(ROOT, 'packages', s.pkg, 'tsconfig.json'), 'utf8')).toMatch(/"outDir"\s*:\s*"(\.\/)?dist\/?"/);
    });

    it('has a HEALTHCHECK on /health that needs no curl or wget, and it really works', async () => {
      const hcs = ops(final, 'HEALTHCHECK');
      const hc = hcs[hcs.length - 1];
      expect(hc, 'final stage needs a HEALTHCHECK').toBeDefined();
      expect(hc?.args).not.toMatch(FETCHERS);
      expect(hc?.args).not.toMatch(/^NONE\b/i);
      const { test } = parseHealthcheck(hc?.args ?? '');
      expect(test.join(' ')).toContain('/health');
      await expectHealthcheckWorks(test, `${rel} HEALTHCHECK`);
    });

    it('keeps compilers out of the runtime stage', () => {
      const runs = ops(final, 'RUN')
        .map((i) => i.args)
        .join('\n');
      expect(runs).not.toMatch(/\b(g\+\+|gcc|make|python3|npm ci|npm install)\b/);
    });

    it('builds with npm ci from the root lockfile and every workspace package.json', () => {
      const ciStages = stages.filter((st) => ops(st, 'RUN').some((i) => /\bnpm ci\b/.test(i.args)));
      expect(ciStages.length, 'some stage must run npm ci').toBeGreaterThan(0);
      expect(stages.some((st) => ops(st, 'RUN').some((i) => /\bnpm run build\b/.test(i.args)))).toBe(true);
      const needed = ['package.json', 'package-lock.json', ...workspaces().map((w) => `${w}/package.json`)];
      for (const st of ciStages) {
        // npm ci refuses to run unless every workspace listed in the lockfile is present
        const copied = copies.filter((c) => c.stage === st && c.from === undefined).flatMap((c) => c.sources.map((src) => posix.normalize(src)));
        for (const file of needed) {
          expect(copied, `stage ${st.name ?? st.from} runs npm ci, so it must COPY ${file}`).toContain(posix.normalize(file));
        }
        // a full install compiles better-sqlite3 from source: it needs the toolchain
        const runs = ops(st, 'RUN')
          .map((i) => i.args)
          .join('\n');
        if (ops(st, 'RUN').some((i) => /\bnpm ci\b/.test(i.args) && !/--workspace|\s-w\s/.test(i.args))) {
          for (const tool of ['python3', 'make', 'g++']) expect(runs, `stage ${st.name ?? st.from}`).toContain(tool);
        }
      }
    });

    it('COPYs only paths that exist in the repo and are not .dockerignored', () => {
      const ignore = readDockerignore();
      const fromContext = copies.filter((c) => c.from === undefined);
      expect(fromContext.length).toBeGreaterThan(0);
      for (const c of fromContext) {
        for (const src of c.sources) {
          expect(src.includes('*') || src.includes('?'), `keep COPY sources literal: ${src}`).toBe(false);
          expect(existsSync(join(ROOT, src)), `${rel}: COPY source ${src} does not exist in the repo`).toBe(true);
          expect(dockerIgnored(src, ignore), `${rel}: COPY source ${src} is excluded by .dockerignore`).toBe(false);
        }
      }
    });

    it('COPY --from names an earlier stage, and paths under packages/ name real packages', () => {
      const names = stages.map((st) => st.name);
      for (const c of copies.filter((x) => x.from !== undefined)) {
        const idx = names.indexOf(c.from);
        expect(idx, `COPY --from=${c.from}: no such stage`).toBeGreaterThanOrEqual(0);
        expect(idx, `COPY --from=${c.from} must refer to an earlier stage`).toBeLessThan(stages.indexOf(c.stage));
        for (const src of c.sources) {
          const m = /(?:^|\/)packages\/([^/]+)/.exec(src);
          if (m?.[1]) expect(existsSync(join(ROOT, 'packages', m[1], 'package.json')), `${src}: packages/${m[1]}`).toBe(true);
        }
      }
    });
  });

// ---------------------------------------------------------------------------
// .dockerignore
// ---------------------------------------------------------------------------

describe('.dockerignore', () => {
  const ignore = readDockerignore();

  it.each([
    'node_modules',
    'packages/gateway/node_modules',
    'packages/service-kit/dist',
    'packages/gateway/dist/main.js',
    'packages/gateway/tsconfig.tsbuildinfo',
    '.git',
    'data',
    'data/meshgate.db',
    '.env',
  ])('excludes %s', (p) => {
    expect(dockerIgnored(p, ignore)).toBe(true);
  });

  it.each(['package.json', 'package-lock.json', 'tsconfig.base.json', 'packages/gateway/src/main.ts', 'packages/service-kit/package.json'])(
    'keeps %s in the build context',
    (p) => {
      expect(dockerIgnored(p, ignore)).toBe(false);
    },
  );
});
