/**
 * The `meshgate` command against a real gateway and the seed's services (real processes,
 * ephemeral ports): status, services, tools, call, sessions, config check, audit, with
 * their tables, --json output and exit codes (0 ok, 1 failed, 2 usage, 3 cannot reach or
 * authenticate).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningService } from '@meshgate/service-kit';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freePort, type Mesh, startFixtureService, startMesh, TOKEN } from '../helpers/mesh.js';
import { stopAll } from '../helpers/process.js';

let mesh: Mesh;
let fixture: RunningService;
let env: Record<string, string>;

beforeAll(async () => {
  [mesh, fixture] = await Promise.all([startMesh(), startFixtureService('cli-fixture', ['lookup'])]);
  env = { MESHGATE_URL: mesh.gateway.url };
});
afterAll(async () => {
  await stopAll();
  await fixture?.close();
});

const json = (text: string): any => JSON.parse(text);

describe('meshgate servers', () => {
  it('lists the virtual servers with their endpoint and how many tools each serves', async () => {
    const empty = await runCli(['servers'], env);
    expect(empty.stdout).toContain('(no virtual servers)');
    const created = await fetch(`${mesh.gateway.url}/virtual-servers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'users-only', tools: ['user-service__*'], description: 'User lookups' }),
    });
    expect(created.status).toBe(201);
    const run = await runCli(['servers'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^users-only\s+catalog\s+registered\s+1\s+\/servers\/users-only\/mcp\s+User lookups/m);
    expect(json((await runCli(['servers', '--json'], env)).stdout)).toMatchObject([{ name: 'users-only', serves: { tools: ['getUserById'] } }]);
  });
});

describe('meshgate status', () => {
  it('says the gateway is up, takes the token, and lists its services as a table', async () => {
    const run = await runCli(['status'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${mesh.gateway.url} (from MESHGATE_URL)`);
    expect(run.stdout).toContain('accepted (from the default token)');
    expect(run.stdout).toMatch(/^shopping-service\s+up\s+1\s/m);
    expect(run.stdout).toMatch(/^user-service\s+up\s+1\s/m);
    expect(run.stdout).not.toContain(TOKEN);
  });

  it('prints one JSON document with --json', async () => {
    const run = await runCli(['status', '--json'], env);
    expect(run.code).toBe(0);
    const status = json(run.stdout);
    expect(status).toMatchObject({ url: mesh.gateway.url, token: { accepted: true }, health: { service: 'mcp-gateway' } });
    expect(Object.keys(status.health.services)).toEqual(['shopping-service', 'user-service']);
  });

  it('exits 3 when the token is refused, without printing it', async () => {
    const run = await runCli(['status', '--token', 'not-the-token-42'], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('refused the token (401) from --token');
    expect(run.stderr + run.stdout).not.toContain('not-the-token-42');
  });

  it('exits 3 when nothing listens at the URL, naming it and what to do', async () => {
    const port = await freePort();
    const run = await runCli(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`Cannot reach the gateway at http://127.0.0.1:${port}`);
    expect(run.stderr).toContain('ECONNREFUSED');
  });
});

describe('meshgate services', () => {
  it('lists, adds, shows and removes a service through the admin API', async () => {
    const listed = await runCli(['services', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    expect(json(listed.stdout).map((service: { name: string }) => service.name)).toEqual(['shopping-service', 'user-service']);

    // The fixture checks the seed's token; a registered service is sent no credential unless given one.
    const credential = JSON.stringify({ bearer: TOKEN });
    const added = await runCli(['services', 'add', 'cli-fixture', fixture.url, '--credential', credential], env);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Registered cli-fixture.');
    expect(added.stdout).toMatch(/^lookup\s+lookup$/m);

    const shown = await runCli(['services', 'show', 'cli-fixture', '--json'], env);
    expect(shown.code).toBe(0);
    expect(json(shown.stdout)).toMatchObject({ name: 'cli-fixture', source: 'registered', status: 'up', tools: [{ name: 'lookup' }] });
    const table = await runCli(['services', 'list'], env);
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+SOURCE\s+TOOLS\s+URL/m);
    expect(table.stdout).toMatch(/^cli-fixture\s+up\s+registered\s+1\s+http:\/\/127\.0\.0\.1:\d+\/mcp/m);

    const updated = await runCli(['services', 'update', 'cli-fixture', '--to', `${fixture.url}/mcp`, '--credential', credential, '--json'], env);
    expect(updated.code, updated.stderr).toBe(0);
    expect(json(updated.stdout)).toMatchObject({ name: 'cli-fixture', url: `${fixture.url}/mcp`, status: 'up', credential: { type: 'bearer' } });
    const nothing = await runCli(['services', 'update', 'cli-fixture'], env);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('give --to URL, a credential, or both');

    const duplicate = await runCli(['services', 'add', 'cli-fixture', fixture.url, '--credential', credential], env);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('POST /register failed (409)');

    const removed = await runCli(['services', 'remove', 'cli-fixture'], env);
    expect(removed.code).toBe(0);
    const gone = await runCli(['services', 'show', 'cli-fixture'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No service named "cli-fixture"');
  });

  it('exits 2 for a missing argument or an unknown option, with the usage', async () => {
    const missing = await runCli(['services', 'add', 'only-a-name'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing <url>');
    const unknown = await runCli(['services', 'list', '--colour'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--colour'");
  });
});

describe('meshgate tools and call', () => {
  it('lists the tools with the service that serves each', async () => {
    const run = await runCli(['tools', 'list'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^getProductById\s+shopping-service\s+Get product by id$/m);
    expect(run.stdout).toMatch(/^getUserById\s+user-service\s/m);
    const listed = json((await runCli(['tools', 'list', '--json'], env)).stdout);
    expect(listed.map((tool: { name: string }) => tool.name)).toEqual(['getProductById', 'getUserById']);
    expect(listed[0]).toMatchObject({ service: 'shopping-service', inputSchema: { properties: { id: { type: 'string' } } } });
  });

  it('shows one tool with its parameters', async () => {
    const run = await runCli(['tools', 'show', 'getUserById'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^id\s+string\s+yes\s/m);
    expect(run.stdout).toContain('meshgate call getUserById id=…');
  });

  it('calls getProductById id=123 and prints the product; --json gives the whole result', async () => {
    const run = await runCli(['call', 'getProductById', 'id=123'], env);
    expect(run.code).toBe(0);
    expect(json(run.stdout)).toMatchObject({ id: '123', name: 'Aurora ANC Wireless Headphones', price: 199.99 });
    const whole = await runCli(['call', 'getProductById', '{"id": "123"}', '--json'], env);
    expect(whole.code).toBe(0);
    expect(json(whole.stdout)).toMatchObject({ structuredContent: { id: '123', sku: 'AUD-AUR-ANC-BLK' }, content: [{ type: 'text' }] });
  });

  it('exits 1 for a tool that answers with an error and for an unknown tool', async () => {
    const missing = await runCli(['call', 'getProductById', 'id=999'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('getProductById answered with an error');
    expect(missing.stderr).toContain('not found');
    const unknown = await runCli(['call', 'getProductByID', 'id=1'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No tool named "getProductByID"; did you mean getProductById?');
  });

  it('exits 2 for arguments the schema refuses, before calling', async () => {
    const run = await runCli(['call', 'getProductById', 'colour=red'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the tool has no argument colour; it takes id');
  });

  it('exits 3 for a refused token', async () => {
    const run = await runCli(['call', 'getProductById', 'id=123'], { ...env, MESHGATE_TOKEN: 'wrong-token-77' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('refused the token (401) from MESHGATE_TOKEN');
    expect(run.stderr).not.toContain('wrong-token-77');
  });
});

describe('meshgate sessions', () => {
  it('shows a session an SDK client holds open, by id prefix, with its client name', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${mesh.gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } });
    const client = new Client({ name: 'held-open-client', version: '9.9.9' });
    await client.connect(transport);
    try {
      const run = await runCli(['sessions', '--json'], env);
      expect(run.code).toBe(0);
      const held = json(run.stdout).find((session: { client: { name: string } }) => session.client.name === 'held-open-client');
      expect(held).toMatchObject({ identity: 'default', client: { version: '9.9.9' }, callsInFlight: 0 });
      expect(transport.sessionId!.startsWith(held.id)).toBe(true);
      expect(run.stdout).not.toContain(transport.sessionId!);
      const table = await runCli(['sessions'], env);
      expect(table.stdout).toMatch(new RegExp(`^${held.id}…\\s+default\\s+held-open-client 9\\.9\\.9\\s+2025-`, 'm'));
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });
});

describe('meshgate config check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-cli-config-'));

  it('accepts a good file and prints what the gateway would run with, tokens by name only', async () => {
    const file = join(dir, 'good.json');
    writeFileSync(
      file,
      JSON.stringify({
        services: [{ name: 'search', url: 'http://127.0.0.1:9/mcp' }],
        tokens: [{ name: 'ops', token: 'inline-secret-123', roles: ['admin'] }],
      }),
    );
    const run = await runCli(['config', 'check', file], { MESHGATE_DB_PATH: join(dir, 'never-opened.db') });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`OK (${file})`);
    expect(run.stdout).toMatch(/^search\s+http:\/\/127\.0\.0\.1:9\/mcp$/m);
    expect(run.stdout).toContain('ops (admin)');
    expect(run.stdout).not.toContain('inline-secret-123');
    const asJson = json((await runCli(['config', 'check', file, '--json'])).stdout);
    expect(asJson).toMatchObject({ ok: true, services: [{ name: 'search' }], tokens: [{ name: 'ops', roles: ['admin'] }] });
  });

  it('refuses a bad file with exit 1, naming the path and what is wrong', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ services: [{ name: 'Bad_Name', url: 'http://127.0.0.1:9/mcp' }] }));
    const run = await runCli(['config', 'check', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(file);
    expect(run.stderr).toMatch(/services\.0\.name/);
    const env = await runCli(['config', 'check'], { MESHGATE_LIST_PAGE_SIZE: 'many' });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('MESHGATE_LIST_PAGE_SIZE');
    const absent = await runCli(['config', 'check', join(dir, 'absent.json')]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain('does not exist');
  });
});

describe('meshgate audit', () => {
  it("shows the gateway's audit log, filtered: the call just made, and refuses a client token", async () => {
    expect((await runCli(['call', 'getProductById', 'id=123'], env)).code).toBe(0);
    const since = new Date(Date.now() - 60_000).toISOString();
    const run = await eventuallyRun(['audit', '--tool', 'getProductById', '--service', 'shopping-service', '--since', since, '--limit', '5']);
    expect(run.stdout).toMatch(/^TIME\s+KIND\s+IDENTITY\s+SERVICE\s+TARGET\s+OUTCOME/m);
    expect(run.stdout).toMatch(/tools\/call\s+default\s+shopping-service\s+getProductById\s+ok/);
    const listed = await runCli(['audit', '--tool', 'getProductById', '--json'], env);
    const entries = json(listed.stdout) as Array<{ kind: string; target: string; outcome: string }>;
    expect(entries.some((entry) => entry.kind === 'tools/call' && entry.target === 'getProductById' && entry.outcome === 'ok')).toBe(true);
    const nobody = await runCli(['audit', '--tool', 'no-such-tool'], env);
    expect(nobody.stdout).toContain('(no audit entries)');
  });

  /** The audit log is written off the call path, a moment after the call: ask until it has the entry. */
  async function eventuallyRun(args: string[]) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const run = await runCli(args, env);
      if (run.code === 0 && run.stdout.includes('getProductById')) return run;
      if (Date.now() > deadline) throw new Error(`no audit entry: ${run.stdout}${run.stderr}`);
      await new Promise((wake) => setTimeout(wake, 100));
    }
  }
});

describe('meshgate help and usage', () => {
  it('exits 0 for --help, 2 for no command or an unknown one', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 cannot reach or authenticate');
    expect((await runCli([])).code).toBe(2);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
