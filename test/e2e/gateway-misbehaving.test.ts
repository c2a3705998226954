/**
 * Misbehaving backends (docs/security.md, cases 23-26 and 28): whatever a federated
 * service does wrong (an HTML 500, truncated JSON, a mismatched id, a 40 MiB answer, an
 * event stream that never ends, a reset, a late answer), the client gets a bounded
 * JSON-RPC error naming the service, the gateway keeps serving, and its memory stays flat.
 *
 * The backend is a raw HTTP fixture (test/fixtures/bad-backend.ts) federated through a
 * config file; calls go through the gateway's sessionless `/mcp` path, like the seed's curls.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BadBackend, startBadBackend } from '../fixtures/bad-backend.js';
import { api, eventually, rpc, startGateway, TOKEN, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const SERVICE = 'bad-backend';
/** MESHGATE_UPSTREAM_TIMEOUT_MS: the deadline of one upstream call. */
const DEADLINE_MS = 1_500;
/** Every answer, error or not, must arrive within this (the deadline plus generous slack). */
const BOUND_MS = DEADLINE_MS + 3_000;

/** A stack frame: "at " followed by a file path, `file://` URL or `node:` module, bare or in parentheses. */
const STACK_FRAME = /\bat\s+(?:[^\s()]+(?:\s+\[[^\]]*\])?\s+\()?(?:file:\/\/|node:|\/|[A-Za-z]:\\)/;

let backend: BadBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  backend = await startBadBackend();
  const configPath = join(mkdtempSync(join(tmpdir(), 'meshgate-config-')), 'meshgate.json');
  writeFileSync(configPath, JSON.stringify({ services: [{ name: SERVICE, url: `${backend.url}/mcp`, credential: { none: true } }] }));
  gateway = await startGateway({
    MESHGATE_CONFIG: configPath,
    MESHGATE_UPSTREAM_TIMEOUT_MS: String(DEADLINE_MS),
    MESHGATE_UPSTREAM_MAX_TIMEOUT_MS: '3000',
  });
  await waitUntilUp(gateway.url, [SERVICE]);
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

/** One sessionless `tools/call` through the gateway, timed. */
async function call(tool: string, args: Record<string, unknown> = {}) {
  const started = performance.now();
  const answer = await rpc(gateway.url, 'tools/call', { name: tool, arguments: args });
  return { ...answer, ms: performance.now() - started };
}

/** The answer is a JSON-RPC error with `code`, naming the service, on one line, with no stack trace and no token. */
function expectCleanError(answer: { status: number; body: any }, code: number): void {
  const shown = JSON.stringify(answer.body);
  expect(answer.status, shown).toBe(200);
  expect(answer.body?.result, shown).toBeUndefined();
  expect(answer.body?.error?.code, shown).toBe(code);
  expect(answer.body.error.data, shown).toMatchObject({ service: SERVICE });
  const message: unknown = answer.body.error.message;
  expect(typeof message, shown).toBe('string');
  expect(message, 'the message names the service').toContain(`"${SERVICE}"`);
  expect(message, 'the message is one line').not.toMatch(/[\r\n]/);
  expect(message, 'the message carries no stack trace').not.toMatch(STACK_FRAME);
  expect(shown, 'the answer carries no token').not.toContain(TOKEN);
}

/** The gateway still answers /health, and a good call to the service succeeds (at once, or after it reconnects). */
async function expectStillServing(): Promise<void> {
  expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  await eventually(
    'an ok call to succeed again',
    async () => {
      const { body } = await call('ok');
      return body?.result?.content?.[0]?.text === 'ok';
    },
    10_000,
  );
}

/** The gateway's resident set size in bytes, from /proc (Linux). */
function gatewayRss(): number {
  const status = readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${gateway.child.pid}/status`);
  return Number(kib) * 1024;
}

describe('a misbehaving backend gets a bounded, clear error naming the service', () => {
  it('a normal call succeeds (the fixture is federated)', async () => {
    const { body } = await call('ok');
    expect(body).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'ok' }] } });
  });

  it.each([
    // An answer that is not MCP is upstream_error, at once.
    ['an HTML 500 page', 'html500', {}, -32013],
    ['truncated JSON', 'badjson', {}, -32013],
    // 40 MiB streamed without a length: cut off at the gateway's 16 MiB response limit.
    ['a 40 MiB answer', 'huge', {}, -32013],
    // A JSON answer under another id is an answer to nothing: invalid, at once.
    ['a result with a mismatched id', 'wrongid', {}, -32013],
    // An event stream of comments and never a result: the deadline.
    ['an event stream that never ends', 'hang', {}, -32012],
    ['an answer later than the deadline', 'slow', { ms: 5_000 }, -32012],
  ])('%s is a bounded error (%s)', async (_case, tool, args, code) => {
    const answer = await call(tool, args);
    expectCleanError(answer, code);
    expect(answer.ms).toBeLessThan(BOUND_MS);
    // A timeout means the deadline passed, not something else failing sooner.
    if (code === -32012) expect(answer.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
    await expectStillServing();
  });

  it('an answer within the deadline is not affected', async () => {
    const answer = await call('slow', { ms: 200 });
    expect(answer.body.result).toEqual({ content: [{ type: 'text', text: 'slept 200 ms' }] });
  });

  // The socket is destroyed before any response byte: undici reports "other side closed"
  // (UND_ERR_SOCKET), a connection failure, so this is upstream_unreachable (-32011) and the
  // gateway drops and re-opens its connection to the service (case 23). A reset in the
  // middle of a body would surface differently (as an invalid answer, -32013); this fixture
  // resets before the status line, which is the refused/reset case of the catalogue.
  it('a reset connection is upstream_unreachable, the service is marked down and comes back', async () => {
    const answer = await call('reset');
    expectCleanError(answer, -32011);
    expect(answer.ms).toBeLessThan(BOUND_MS);
    await expectStillServing();
    expect(gateway.output()).toContain(`service \\"${SERVICE}\\" is down`);
    await eventually('the service up again', async () => (await api(gateway.url, 'GET', `/services/${SERVICE}`)).body?.status === 'up', 10_000);
  });
});

describe('the deadline aborts the upstream request (case 24)', () => {
  it.each([
    ['an event stream that never ends', 'hang', {}],
    ['an answer later than the deadline', 'slow', { ms: 8_000 }],
  ])('%s: the backend sees its request dropped (%s)', async (_case, tool, args) => {
    const aborted = backend.aborted();
    const answer = await call(tool, args);
    expectCleanError(answer, -32012);
    // The deadline must close the upstream HTTP request itself, not only send
    // notifications/cancelled: a backend that ignores the cancellation would otherwise keep
    // a socket (and, for `hang`, an endless stream) open in the gateway per timed-out call.
    await eventually(`the backend to see the ${tool} request aborted`, async () => backend.aborted() > aborted, 3_000);
  });
});

describe('a stream kept open after the answer', () => {
  it('the call is answered at once, and the gateway closes the stream soon after', async () => {
    const aborted = backend.aborted();
    const answer = await call('linger');
    expect(answer.body.result).toEqual({ content: [{ type: 'text', text: 'lingering' }] });
    expect(answer.ms).toBeLessThan(BOUND_MS);
    await eventually('the backend to see the lingering stream closed', async () => backend.aborted() > aborted, 5_000);
  });
});

describe('the circuit breaker (defaults: 5 consecutive faults, 10 s cooldown)', () => {
  // The breaker's threshold and cooldown are not configurable through the environment
  // (packages/gateway/src/config/schema.ts has no such variable), so this uses the defaults.
  it('opens after 5 invalid answers in a row, fails fast naming the circuit, and closes after the cooldown', { timeout: 60_000 }, async () => {
    await expectStillServing(); // a success first: the consecutive-fault count starts at 0
    for (let i = 0; i < 5; i += 1) expectCleanError(await call('html500'), -32013);

    const reached = backend.calls()['html500'] ?? 0;
    const fast = await call('html500');
    expectCleanError(fast, -32010);
    expect(fast.body.error.message).toMatch(/circuit/);
    expect(fast.ms).toBeLessThan(2_000);
    expect(backend.calls()['html500'] ?? 0, 'an open circuit does not call the service').toBe(reached);

    const view = await api(gateway.url, 'GET', `/services/${SERVICE}`);
    expect(view.body).toMatchObject({ name: SERVICE, circuit: 'open', status: 'degraded' });
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);

    // After the cooldown one call is let through; its success closes the circuit.
    await eventually('an ok call to close the circuit', async () => (await call('ok')).body?.result?.content?.[0]?.text === 'ok', 25_000);
    expect((await api(gateway.url, 'GET', `/services/${SERVICE}`)).body).toMatchObject({ circuit: 'closed', status: 'up' });
  });
});

describe('oversized catalogs (case 26)', () => {
  it('a tools/list of 10,000 tools and a 1 MB description are capped and logged', async () => {
    const flood = await startBadBackend({ extraTools: 10_000, okDescriptionBytes: 1024 * 1024 });
    try {
      const registered = await api(gateway.url, 'POST', '/register', { name: 'flood', url: flood.url, credential: { none: true } });
      expect(registered.status, JSON.stringify(registered.body)).toBe(201);
      const { body } = await api(gateway.url, 'GET', '/services/flood');
      expect(body.tools).toHaveLength(5_000);
      const list = await rpc(gateway.url, 'tools/list', {});
      const ok = list.body.result.tools.find((tool: { name: string }) => tool.name === 'flood__ok');
      expect(ok.description.length).toBeLessThanOrEqual(16 * 1024 + 1);
      await eventually(
        'both caps logged',
        async () =>
          gateway.output().includes('service \\"flood\\" lists more than 5000 tools') &&
          gateway.output().includes('description of tool \\"ok\\" of service \\"flood\\" cut'),
      );
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      await api(gateway.url, 'DELETE', '/services/flood');
      await flood.close();
    }
  });
});

describe('logs (case 28)', () => {
  it('the gateway log holds no token and no stack trace after all of the above', () => {
    const output = gateway.output();
    expect(output).not.toContain(TOKEN);
    const withStack = output.split('\n').filter((line) => STACK_FRAME.test(line));
    expect(withStack, 'log lines with a stack frame').toEqual([]);
  });
});

// Last: it runs 60 calls of 40 MiB each and needs the circuit closed.
describe('memory stays flat', () => {
  it('60 answers of 40 MiB grow the gateway RSS by less than 60 MB', { timeout: 180_000 }, async () => {
    // Each huge call is a fault of the service; an ok call in between keeps the circuit
    // closed, so every huge call really streams from the backend.
    const hugeCall = async () => {
      const answer = await call('huge');
      expectCleanError(answer, -32013);
      expect(answer.ms).toBeLessThan(BOUND_MS);
      expect((await call('ok')).body?.result?.content?.[0]?.text).toBe('ok');
    };
    for (let i = 0; i < 20; i += 1) await hugeCall();
    const warm = gatewayRss();
    for (let i = 0; i < 40; i += 1) await hugeCall();
    const after = gatewayRss();
    const growth = after - warm;
    expect(growth, `RSS ${Math.round(warm / 2 ** 20)} MiB -> ${Math.round(after / 2 ** 20)} MiB`).toBeLessThan(60 * 1024 * 1024);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });
});
