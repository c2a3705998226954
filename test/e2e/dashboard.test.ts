import { existsSync, mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createLogger, defineTool, type RunningService, startMcpService, ToolServerFactory } from '@meshgate/service-kit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startDynamicService } from '../fixtures/dynamic-service.js';
import { api, eventually, FIXTURE_CREDENTIAL, type Mesh, startFixtureService, startMesh, TOKEN } from '../helpers/mesh.js';

/**
 * The dashboard at /admin in a real Chromium (the system's, never a downloaded one) against
 * a real gateway and the seed services. Screenshots of every page go to
 * test-results/dashboard/ (git-ignored; docs/dashboard.md).
 */

const CHROMIUM = '/usr/bin/chromium';
/** How long a poll waits for the page: generous, for a loaded CI machine (a poll ends as soon as it holds). */
const POLL = { timeout: 15_000 };
const SHOTS = join(process.cwd(), 'test-results', 'dashboard');
const VIEWER_TOKEN = 'viewer-token-dashboard-456';
/** A client token whose allow-list lets it use the user service only. */
const SUPPORT_TOKEN = 'support-token-dashboard-789';
/** What the gateway sends on every /admin answer (http/dashboard.ts). */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

if (!existsSync(join(process.cwd(), 'packages', 'dashboard', 'dist', 'index.html'))) {
  throw new Error('The dashboard bundle is missing: run `npm run build` (npm test builds it before vitest runs)');
}
if (!existsSync(CHROMIUM)) {
  throw new Error(
    `The dashboard test needs Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y --no-install-recommends chromium\` (.ci/run does this)`,
  );
}

/** A raw request whose target is sent exactly as written (fetch would normalise `..` away). */
function rawGet(base: string, target: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A service with one tool whose input has every kind of field the form knows; it echoes its arguments back as structuredContent. */
function startKindsService(): Promise<RunningService> {
  const input = z.object({
    label: z.string(),
    count: z.number().int(),
    ratio: z.number().optional(),
    urgent: z.boolean(),
    colour: z.enum(['red', 'green', 'blue']),
    tags: z.array(z.string()),
    filter: z.object({ min: z.number(), max: z.number() }),
  });
  const factory = new ToolServerFactory({ name: 'kinds-fixture', version: '0.0.0' }, [
    defineTool({
      name: 'echoKinds',
      description: 'Answers with the arguments it got',
      input,
      output: z.object({ got: input }),
      handler: (got) => ({ ok: true, value: { got } }),
    }),
  ]);
  return startMcpService({
    name: 'kinds-fixture',
    config: { port: 0, host: '127.0.0.1', token: TOKEN },
    logger: createLogger({ name: 'kinds-fixture', level: 'silent', format: 'json' }),
    createServer: factory.create,
    health: () => ({ ok: true }),
  });
}

describe('the admin dashboard', () => {
  let mesh: Mesh;
  let browser: Browser;
  let fixture: RunningService;
  let kinds: RunningService;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    mesh = await startMesh({
      MESHGATE_TOKENS: JSON.stringify([
        { name: 'ops', token: TOKEN, roles: ['admin', 'client'] },
        { name: 'viewer', token: VIEWER_TOKEN, roles: ['client'] },
        { name: 'support', token: SUPPORT_TOKEN, roles: ['client'], tools: ['getUserById'] },
      ]),
    });
    fixture = await startFixtureService('inventory-fixture', ['countStock']);
    kinds = await startKindsService();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.close();
    await kinds?.close();
    await Promise.all([mesh?.gateway.stop(), mesh?.shopping.stop(), mesh?.user.stop()]);
  });

  /** A fresh page whose console errors, page errors and CSP violations are collected in `problems`. */
  async function openPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    problems.length = 0;
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${mesh.gateway.url}/admin/`);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('services').waitFor();
  }

  it('serves the bundle with a strict CSP, nosniff and sane cache headers', async () => {
    const redirect = await fetch(`${mesh.gateway.url}/admin`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/admin/');

    const index = await fetch(`${mesh.gateway.url}/admin/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe(CSP);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/<style|\sstyle=/); // no inline style
    const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${mesh.gateway.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-security-policy')).toBe(CSP);
  });

  // Node's URL parsing resolves `..` and `%2e%2e` before any route sees them (they land outside
  // /admin, at the API's 404); `%2f`, `%5c`, double encoding, NUL and dot files reach the
  // dashboard's own check (assetPath in http/dashboard.ts, table-tested beside it).
  it.each([
    '/admin/../package.json',
    '/admin/../../package.json',
    '/admin/%2e%2e/%2e%2e/package.json',
    '/admin/..%2f..%2fpackage.json',
    '/admin/assets/..%5c..%5c..%5cpackage.json',
    '/admin/%252e%252e/package.json',
    '/admin//etc/passwd',
    '/admin/%00index.html',
    '/admin/.vite/manifest.json',
  ])('refuses %s (path traversal, odd spellings, dot files)', async (target) => {
    const answer = await rawGet(mesh.gateway.url, target);
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('"name"');
    expect(answer.body).not.toContain('root:');
  });

  it('signs in, shows both seed services up, tries getProductById 123, registers a service, lists sessions and the audit log, with no CSP violation', async () => {
    const page = await openPage();
    await signIn(page, TOKEN);
    for (const name of ['shopping-service', 'user-service']) {
      await expect.poll(() => page.getByTestId(`status-${name}`).textContent(), POLL).toBe('up');
    }
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });

    // Service detail and "try a tool": the form comes from the input schema, the call goes through /mcp.
    await page.getByTestId('service-shopping-service').click();
    await page.getByTestId('try-getProductById').click();
    await page.getByTestId('arg-id').fill('123');
    await page.getByTestId('call').click();
    const structured = page.getByTestId('structured');
    await structured.waitFor();
    const product = JSON.parse((await structured.textContent()) ?? '{}') as { id?: string; name?: string };
    expect(product.id).toBe('123');
    expect(product.name).toMatch(/Wireless Headphones/);
    await page.screenshot({ path: join(SHOTS, 'service-try-tool.png'), fullPage: true });

    // Register the fixture through the form; it appears on the overview, up.
    await page.getByRole('link', { name: 'Register' }).first().click();
    await page.getByLabel('Name').fill('inventory-fixture');
    await page.getByLabel('MCP URL').fill(`${fixture.url}/mcp`);
    await page.getByLabel('Credential (JSON)').fill(JSON.stringify(FIXTURE_CREDENTIAL));
    await page.screenshot({ path: join(SHOTS, 'register.png'), fullPage: true });
    await page.getByTestId('submit').click();
    await page.waitForURL(/#\/services\/inventory-fixture/);
    await page.getByRole('link', { name: '← Services' }).click();
    await expect.poll(() => page.getByTestId('status-inventory-fixture').textContent(), POLL).toBe('up');
    // The call made above shows in the overview's numbers, read from the metrics registry (GET /stats).
    expect(await page.getByTestId('calls-shopping-service').textContent()).toBe('1');
    expect(await page.getByTestId('latency-shopping-service').textContent()).toMatch(/^\d+\.\d ms$/);
    expect(await page.getByTestId('calls-user-service').textContent()).toBe('0');
    // The second reading, one refresh later, gives a rate.
    await expect.poll(() => page.getByTestId('rate-shopping-service').textContent(), POLL).toMatch(/^\d+\.\d$/);
    await page.screenshot({ path: join(SHOTS, 'overview-after-register.png'), fullPage: true });
    const registered = await api(mesh.gateway.url, 'GET', '/services/inventory-fixture');
    expect(registered.status).toBe(200);

    // An MCP session opened by another client shows on the sessions page.
    const init = await fetch(`${mesh.gateway.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'dashboard-e2e', version: '1.0.0' } },
      }),
    });
    expect(init.status).toBe(200);
    await page.getByRole('link', { name: 'Sessions' }).click();
    await expect.poll(() => page.getByTestId('sessions').textContent(), POLL).toContain('dashboard-e2e 1.0.0');
    await page.screenshot({ path: join(SHOTS, 'sessions.png'), fullPage: true });

    // The audit log has the call and the registration; the kind filter narrows it.
    await page.getByRole('link', { name: 'Audit' }).click();
    const audit = page.getByTestId('audit');
    await expect.poll(() => audit.textContent(), POLL).toContain('getProductById');
    expect(await audit.textContent()).toContain('service.register');
    await page.getByTestId('filter-kind').selectOption('service.register');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(async () => (await audit.textContent())?.includes('getProductById'), POLL).toBe(false);
    expect(await audit.textContent()).toContain('inventory-fixture');
    await page.screenshot({ path: join(SHOTS, 'audit.png'), fullPage: true });

    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('really enforces the CSP: an injected inline script does not run, and the violation is reported', async () => {
    const page = await openPage();
    await page.goto(`${mesh.gateway.url}/admin/`);
    await page.getByLabel('Token').waitFor();
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = true';
      document.head.append(script);
      return (window as unknown as { __inline?: boolean }).__inline === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => problems.some((problem) => problem.includes('Content Security Policy')), POLL).toBe(true);
    problems.length = 0;
    await page.context().close();
  });

  it('gives the client role a read-only dashboard, and the API refuses its changes', async () => {
    const page = await openPage();
    await signIn(page, VIEWER_TOKEN);
    expect(await page.locator('body').getAttribute('data-role')).toBe('client');
    for (const name of ['Register', 'Sessions', 'Audit']) expect(await page.getByRole('link', { name, exact: true }).isVisible()).toBe(false);
    expect(await page.getByTestId('register-link').count()).toBe(0);
    await page.getByTestId('service-shopping-service').click();
    await page.getByTestId('try-getProductById').waitFor();
    expect(await page.getByTestId('deregister').count()).toBe(0);
    expect(await page.getByTestId('edit').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'client-service.png'), fullPage: true });
    expect(problems).toEqual([]);
    // Hidden buttons are not the protection: the API itself refuses the client role.
    const refused = await page.evaluate(async (token) => {
      const answer = await fetch('/services/shopping-service', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      return answer.status;
    }, VIEWER_TOKEN);
    expect(refused).toBe(403);
    expect((await api(mesh.gateway.url, 'GET', '/services/shopping-service')).status).toBe(200);
    await page.context().close();
  });

  it('keeps the token in sessionStorage only, and a wrong token gets the sign-in form back with the reason', async () => {
    const page = await openPage();
    await signIn(page, TOKEN);
    const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('meshgate.token'), local: localStorage.length, cookie: document.cookie }));
    expect(stored).toEqual({ session: TOKEN, local: 0, cookie: '' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toContain('refused the token');
    // The 401 itself is a console error of the browser (a failed resource), not a CSP one.
    expect(problems.filter((problem) => !problem.includes('401'))).toEqual([]);
    problems.length = 0;
    await page.context().close();
  });
  it('builds the try-a-tool form from the schema: number, integer, boolean, enum, array and object fields reach the tool typed', async () => {
    const registered = await api(mesh.gateway.url, 'POST', '/register', { name: 'kinds-fixture', url: `${kinds.url}/mcp`, credential: FIXTURE_CREDENTIAL });
    expect(registered.status).toBe(201);
    const page = await openPage();
    await signIn(page, TOKEN);
    await expect.poll(() => page.getByTestId('status-kinds-fixture').textContent(), POLL).toBe('up');
    await page.goto(`${mesh.gateway.url}/admin/#/services/kinds-fixture?tool=echoKinds`);
    await page.getByTestId('try-form').waitFor();
    expect(await page.getByTestId('arg-count').getAttribute('type')).toBe('number');
    expect(await page.getByTestId('arg-count').getAttribute('step')).toBe('1');
    expect(await page.getByTestId('arg-urgent').getAttribute('type')).toBe('checkbox');
    expect(await page.getByTestId('arg-colour').evaluate((element) => element.tagName)).toBe('SELECT');
    expect(await page.getByTestId('arg-tags').evaluate((element) => element.tagName)).toBe('TEXTAREA');
    await page.getByTestId('arg-label').fill('hello');
    await page.getByTestId('arg-count').fill('7');
    await page.getByTestId('arg-urgent').check();
    await page.getByTestId('arg-colour').selectOption({ label: 'green' });
    await page.getByTestId('arg-tags').fill('["a", "b"]');
    await page.getByTestId('arg-filter').fill('{"min": 1, "max": 9.5}');
    await page.getByTestId('call').click();
    const structured = page.getByTestId('structured');
    await structured.waitFor();
    // `ratio` was left empty and is optional: it is not sent.
    expect(JSON.parse((await structured.textContent()) ?? '{}')).toEqual({
      got: { label: 'hello', count: 7, urgent: true, colour: 'green', tags: ['a', 'b'], filter: { min: 1, max: 9.5 } },
    });
    // Invalid JSON is caught in the page, naming the field, and nothing is called.
    await page.getByTestId('arg-tags').fill('[oops');
    await page.getByTestId('call').click();
    await expect.poll(() => page.getByTestId('result').textContent(), POLL).toBe('tags must be valid JSON');
    await page.screenshot({ path: join(SHOTS, 'try-tool-kinds.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
    expect((await api(mesh.gateway.url, 'DELETE', '/services/kinds-fixture')).status).toBe(204);
  }, 90_000);

  it('updates and deregisters a registered service from its page', async () => {
    const spare = await startFixtureService('spare-fixture', ['spareTool']);
    try {
      expect(
        (await api(mesh.gateway.url, 'POST', '/register', { name: 'spare-fixture', url: `${spare.url}/mcp`, credential: FIXTURE_CREDENTIAL })).status,
      ).toBe(201);
      const page = await openPage();
      await signIn(page, TOKEN);
      await page.getByTestId('service-spare-fixture').click();
      await page.getByTestId('edit').click();
      await page.getByLabel('Transport').selectOption('streamable-http');
      await page.getByTestId('submit').click();
      await expect
        .poll(async () => ((await api(mesh.gateway.url, 'GET', '/services/spare-fixture')).body as { transport?: string }).transport)
        .toBe('streamable-http');
      await page.getByTestId('deregister').waitFor();
      await page.getByTestId('deregister').click();
      await page.getByTestId('deregister-confirm').click();
      await page.getByTestId('services').waitFor();
      await expect.poll(async () => (await api(mesh.gateway.url, 'GET', '/services/spare-fixture')).status, POLL).toBe(404);
      expect(await page.getByTestId('service-spare-fixture').count()).toBe(0);
      const audit = (await api(mesh.gateway.url, 'GET', '/audit?service=spare-fixture')).body as { entries: { kind: string; identity: string }[] };
      expect(audit.entries.map((entry) => [entry.kind, entry.identity])).toEqual([
        ['service.register', 'ops'],
        ['service.update', 'ops'],
        ['service.deregister', 'ops'],
      ]);
      expect(problems).toEqual([]);
      await page.context().close();
    } finally {
      await spare.close();
    }
  }, 90_000);

  it('shows a held change of a pinned tool on its service page, and approves it there', async () => {
    const pinned = await startDynamicService({ name: 'pinned-fixture' });
    try {
      const registered = await api(mesh.gateway.url, 'POST', '/register', {
        name: 'pinned-fixture',
        url: pinned.url,
        credential: FIXTURE_CREDENTIAL,
        pin: 'serve-pinned',
      });
      expect(registered.status).toBe(201);
      pinned.changeTool('echo', { description: 'Echoes, and now says something else' });
      const held = () =>
        api(mesh.gateway.url, 'GET', '/services/pinned-fixture').then(({ body }) => (body as { surface: { held: { tool: string }[] } }).surface.held);
      await eventually('the change to be held', async () => (await held()).length === 1);
      const page = await openPage();
      await signIn(page, TOKEN);
      await page.getByTestId('service-pinned-fixture').click();
      await page.getByTestId('held-echo').waitFor();
      expect(await page.getByTestId('held-echo').textContent()).toContain('now says something else');
      await page.screenshot({ path: join(SHOTS, 'held-change.png'), fullPage: true });
      await page.getByTestId('approve-echo').click();
      await expect.poll(async () => (await held()).length, POLL).toBe(0);
      await expect.poll(async () => page.getByTestId('held-echo').count(), POLL).toBe(0);
      expect(await page.getByTestId('tools').textContent()).toContain('now says something else');
      const audit = (await api(mesh.gateway.url, 'GET', '/audit?kind=tool.approve&service=pinned-fixture')).body as {
        entries: { identity: string; target: string }[];
      };
      expect(audit.entries.map((entry) => [entry.identity, entry.target])).toEqual([['ops', 'echo']]);
      expect(problems).toEqual([]);
      await page.context().close();
    } finally {
      await api(mesh.gateway.url, 'DELETE', '/services/pinned-fixture');
      await pinned.close();
    }
  }, 90_000);

  it('answers /whoami with the roles, and /stats only with the services a client token may see', async () => {
    expect((await api(mesh.gateway.url, 'GET', '/whoami', undefined, VIEWER_TOKEN)).body).toEqual({ identity: 'viewer', roles: ['client'] });
    expect((await api(mesh.gateway.url, 'GET', '/whoami')).body).toEqual({ identity: 'ops', roles: ['admin', 'client'] });
    expect((await api(mesh.gateway.url, 'GET', '/whoami', undefined, null)).status).toBe(401);
    await rpcCall(TOKEN, 'getProductById', { id: '123' });
    await rpcCall(SUPPORT_TOKEN, 'getUserById', { id: '1' });
    const admin = (await api(mesh.gateway.url, 'GET', '/stats')).body as { services: Record<string, unknown> };
    expect(Object.keys(admin.services)).toEqual(expect.arrayContaining(['shopping-service', 'user-service']));
    const support = await api(mesh.gateway.url, 'GET', '/stats', undefined, SUPPORT_TOKEN);
    expect(support.status).toBe(200);
    expect(Object.keys((support.body as { services: Record<string, unknown> }).services)).toEqual(['user-service']);
    expect((await api(mesh.gateway.url, 'GET', '/stats', undefined, null)).status).toBe(401);
  });

  /** A sessionless tools/call, as the dashboard makes it. */
  async function rpcCall(token: string, name: string, args: Record<string, unknown>): Promise<void> {
    const answer = await fetch(`${mesh.gateway.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
    });
    expect(answer.status).toBe(200);
  }
});
