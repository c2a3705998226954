/**
 * The stdio transport and its supervisor on real processes: the repository's stdio fixture
 * (test/fixtures/stdio-fixture.mjs) run through the compiled guard, in its own process group.
 */
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { groupAlive } from '../../../../../test/helpers/stdio.js';
import { ConnectionClosedError, UpstreamTimeoutError } from '../errors.js';
import type { TransportEvents, TransportLimits } from '../transport.js';
import { PidFile } from './pid-file.js';
import { StdioTransport } from './stdio-transport.js';
import { ServiceSupervisor } from './supervisor.js';

const FIXTURE = fileURLToPath(new URL('../../../../../test/fixtures/stdio-fixture.mjs', import.meta.url));
const LIMITS: TransportLimits = { connectMs: 5_000, requestMs: 5_000, maxRequestMs: 10_000, maxResponseBytes: 1 << 20 };

let logs: { msg: string; stderr?: string }[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
const open: StdioTransport[] = [];

/** The fixture with `args`, or, with `command`, any other program. */
function fixture(args: string[] = [], { command, graceMs = 2_000 }: { command?: string; graceMs?: number } = {}) {
  const supervisor = new ServiceSupervisor({
    service: 'fx',
    spec: { command: command ?? process.execPath, args: command === undefined ? [FIXTURE, ...args] : args, env: {}, stdio: 'shared' },
    logger,
    pidFile: new PidFile(undefined),
    backoff: { minMs: 60_000, maxMs: 60_000 },
    graceMs,
    maxLineBytes: LIMITS.maxResponseBytes,
  });
  const events = { notification: vi.fn(), request: vi.fn(), sessionLost: vi.fn() } satisfies TransportEvents;
  const transport = new StdioTransport({ service: 'fx', limits: LIMITS, logger, spawn: supervisor.spawner(supervisor.shared, 'shared') }, events);
  open.push(transport);
  return { supervisor, events, transport };
}

const call = (transport: StdioTransport, name: string, args: Record<string, unknown> = {}, options = {}) =>
  transport.request('tools/call', { name, arguments: args }, options);
const textOf = (result: Record<string, unknown>) => (result['content'] as { text: string }[])[0]?.text ?? '';

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((transport) => transport.close()));
  logs = [];
});

describe('StdioTransport', () => {
  it('opens the session with initialize and answers requests with the service results unchanged', async () => {
    const { transport } = fixture();
    const handshake = await transport.start();
    expect(handshake).toMatchObject({ serverInfo: { name: 'stdio-fixture' }, capabilities: { tools: {} } });
    expect((await transport.request('tools/list', undefined))['tools']).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'pid' })]));
    await expect(call(transport, 'nope')).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('unknown tool') });
  });

  it('times out a call at its deadline and tells the service it is cancelled', async () => {
    const { transport } = fixture();
    await transport.start();
    await expect(call(transport, 'sleep', { ms: 60_000 }, { timeoutMs: 200 })).rejects.toBeInstanceOf(UpstreamTimeoutError);
    const cancelled = JSON.parse(textOf(await call(transport, 'cancelled'))) as unknown[];
    expect(cancelled).toHaveLength(1);
  });

  it("cancels the upstream call when the client's signal aborts", async () => {
    const { transport } = fixture();
    await transport.start();
    const controller = new AbortController();
    const pending = call(transport, 'sleep', { ms: 60_000 }, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(async () => expect(JSON.parse(textOf(await call(transport, 'cancelled')))).toHaveLength(1));
  });

  it("passes progress to the caller under the gateway's own token, never the client's", async () => {
    const { transport } = fixture();
    await transport.start();
    const seen: number[] = [];
    const result = await call(transport, 'progress', { steps: 3 }, {});
    expect(JSON.parse(textOf(result))).toEqual({}); // no token asked: none sent
    const withToken = await transport.request(
      'tools/call',
      { name: 'progress', arguments: { steps: 3 }, _meta: { progressToken: 'the-clients-token' } },
      { onprogress: (update) => seen.push(update.progress) },
    );
    expect(seen).toEqual([1, 2, 3]);
    expect(JSON.parse(textOf(withToken)).token).toEqual(expect.any(Number));
  });

  it("hands the service's requests to the transport events and sends back their answer", async () => {
    const { transport, events } = fixture();
    events.request.mockResolvedValue({ role: 'assistant', model: 'm', content: { type: 'text', text: 'yes' } });
    await transport.start();
    const result = await call(transport, 'ask');
    expect(events.request).toHaveBeenCalledWith('sampling/createMessage', expect.objectContaining({ maxTokens: 5 }));
    expect(JSON.parse(textOf(result))).toMatchObject({ content: { text: 'yes' } });
  });

  it('fails the calls in flight when the process exits, reports the session lost once, and counts a crash', async () => {
    const { transport, events, supervisor } = fixture();
    await transport.start();
    const sleeping = call(transport, 'sleep', { ms: 60_000 });
    await expect(call(transport, 'exit', { code: 4 })).rejects.toThrow(new ConnectionClosedError('the command exited with code 4'));
    await expect(sleeping).rejects.toBeInstanceOf(ConnectionClosedError);
    await vi.waitFor(() => expect(events.sessionLost).toHaveBeenCalledWith('the command exited with code 4'));
    expect(events.sessionLost).toHaveBeenCalledTimes(1);
    expect(supervisor.shared.crashes).toBe(1);
    // The backoff (a minute, here) refuses the next start at once, saying why.
    const next = new StdioTransport({ service: 'fx', limits: LIMITS, logger, spawn: supervisor.spawner(supervisor.shared, 'shared') }, events);
    await expect(next.start()).rejects.toThrow(/the process ended \(the command exited with code 4\) once; restarting in/);
  });

  it('fails to start a command that does not exist, naming it', async () => {
    const { transport } = fixture([], { command: 'meshgate-no-such-command' });
    await expect(transport.start()).rejects.toThrow('cannot start "meshgate-no-such-command": ENOENT');
  });

  it('logs stderr lines under the service, at most 50 in a burst', async () => {
    const { transport } = fixture(['-e', 'for (let i = 0; i < 500; i++) console.error("noise " + i); setInterval(() => {}, 1000)'], {
      command: process.execPath,
    });
    // Not the fixture: `node -e` never answers initialize, so start times out; stderr is what is looked at.
    const starting = transport.start().catch(() => undefined);
    await vi.waitFor(() => expect(logs.filter((entry) => entry.stderr?.startsWith('noise'))).toHaveLength(50));
    await transport.close();
    await starting;
  });

  it('ends the whole process group on close, with SIGKILL after the grace period for a process that ignores SIGTERM', async () => {
    const { transport } = fixture(['--stubborn'], { graceMs: 300 });
    await transport.start();
    const pgid = transport.pgid as number;
    expect(groupAlive(pgid)).toBe(true);
    const started = Date.now();
    await transport.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300); // it had to wait for SIGKILL
    // SIGKILL is sent to the whole group; the kernel takes a moment to end a busy process.
    await vi.waitFor(() => expect(groupAlive(pgid)).toBe(false), { timeout: 5_000, interval: 20 });
  });
});
