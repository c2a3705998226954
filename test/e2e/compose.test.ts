/**
 * Static checks of docker-compose.yml (the Dockerfiles and .dockerignore are
 * dockerfiles.test.ts). No Docker engine is needed: `docker-compose
 * config` validates and interpolates the file without one, and the rest is
 * parsed here. The healthcheck commands are executed for real with the local
 * node against a throwaway HTTP server, so a broken one-liner fails here and
 * not in a container.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  CI as CI_STRICT,
  COMPOSE_FILE,
  composeEnv,
  DEFAULT_TOKEN,
  type Dict,
  dict,
  envOf,
  FETCHERS,
  GATEWAY,
  HAS_COMPOSE_V2,
  isDict,
  needComposeV1,
  portsOf,
  ROOT,
  runCapture,
  SERVICES,
  type ServiceSpec,
  SHOPPING,
  USER,
  useHealthcheckStandIn,
} from '../helpers/packaging.js';

const expectHealthcheckWorks = useHealthcheckStandIn();

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

  it('defines exactly shopping-service, user-service and mcp-gateway outside profiles (what `docker compose up --build` starts)', () => {
    const unprofiled = Object.keys(services).filter((name) => dict(services[name], name).profiles === undefined);
    expect(unprofiled.sort()).toEqual(SERVICES.map((s) => s.service).sort());
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
// The `replicas` profile: PostgreSQL, three gateway replicas, HAProxy
// ---------------------------------------------------------------------------

describe('docker-compose.yml, profile replicas', () => {
  const compose = dict(parseYaml(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }), 'docker-compose.yml');
  const services = dict(compose.services, 'services');
  const REPLICAS = ['gateway-1', 'gateway-2', 'gateway-3'];
  const svc = (name: string): Dict => dict(services[name], `services.${name}`);

  it('holds postgres, three gateway replicas and haproxy, all in the profile and nothing else', () => {
    const profiled = Object.keys(services).filter((name) => svc(name).profiles !== undefined);
    expect(profiled.sort()).toEqual(['haproxy', 'postgres', ...REPLICAS].sort());
    for (const name of profiled) expect(svc(name).profiles, name).toEqual(['replicas']);
  });

  it('the replicas share one configuration: the database, the session keys and the secret key from the environment', () => {
    const envs = REPLICAS.map((name) => envOf(svc(name)));
    for (const env of envs) expect(env).toEqual(envs[0]);
    const env = envs[0] as Record<string, string>;
    expect(env.MESHGATE_DATABASE_URL).toMatch(/^postgres:\/\/meshgate:.*@postgres:5432\/meshgate$/);
    expect(env.MESHGATE_SESSION_KEYS).toBe(`\${MESHGATE_SESSION_KEYS:-}`);
    expect(env.MESHGATE_SECRET_KEY).toBe(`\${MESHGATE_SECRET_KEY:-}`);
    for (const name of REPLICAS) {
      expect(dict(dict(svc(name).depends_on, `${name}.depends_on`).postgres, 'postgres').condition).toBe('service_healthy');
      expect(svc(name).ports, `${name} publishes no port: clients go through haproxy`).toBeUndefined();
    }
  });

  it('a replica without session keys or secret key refuses to start, saying what to set', () => {
    const command = svc('gateway-1').command as string[];
    expect(command.slice(0, 2)).toEqual(['sh', '-c']);
    // Compose turns $$ into $; run the script as the container would, without the two keys.
    const script = String(command[2]).replace(/\$\$/g, '$');
    const env = composeEnv();
    delete env.MESHGATE_SESSION_KEYS;
    delete env.MESHGATE_SECRET_KEY;
    const refused = runCapture('sh', ['-c', script], env);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('set MESHGATE_SESSION_KEYS and MESHGATE_SECRET_KEY');
    expect(script).toMatch(/exec node (--\S+ )*packages\/gateway\/dist\/main\.js$/);
  });

  it('haproxy mounts deploy/haproxy/haproxy.cfg, publishes 3010 and waits for healthy replicas', () => {
    const haproxy = svc('haproxy');
    expect(haproxy.volumes).toEqual(['./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro']);
    expect(portsOf(haproxy)).toContainEqual({ published: 3010, target: 3010 });
    const deps = dict(haproxy.depends_on, 'haproxy.depends_on');
    expect(Object.keys(deps).sort()).toEqual(REPLICAS);
  });

  it('deploy/haproxy/haproxy.cfg balances round-robin over the three replicas with no stickiness, checking /health, and HAProxy accepts it', (ctx) => {
    const config = readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8');
    expect(config).toMatch(/^\s*balance roundrobin$/m);
    expect(config).toMatch(/http-check send meth GET uri \/health/);
    expect(config).not.toMatch(/^\s*(cookie|stick|hash-type|balance source)/m);
    for (const name of REPLICAS) expect(config).toMatch(new RegExp(`^\\s*server ${name} ${name}:3001$`, 'm'));
    ctx.skip(!existsSync('/usr/sbin/haproxy') && !CI_STRICT, 'haproxy is not installed here (.ci/run installs it)');
    const checked = runCapture('/usr/sbin/haproxy', ['-c', '-f', join(ROOT, 'deploy/haproxy/haproxy.cfg')], composeEnv());
    expect(checked.status, checked.stderr + checked.stdout).toBe(0);
  });
});
