/**
 * The process fault of the second hostile-input round (docs/security.md, "Round two"): a
 * gateway whose log reader had gone (its parent killed while the gateway was busy)
 * ignored SIGINT, SIGTERM and its own exit timer; only SIGKILL ended it. Its logger
 * wrote synchronously to a pipe nobody read, so once the pipe was full the whole process
 * waited on one write. Here the gateway's stdout is a pipe nobody reads and it is made
 * to log far more than a pipe holds (a warning per invalid backend answer); then SIGTERM
 * must end it within its shutdown timer.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileBackend, startHostileBackend } from '../fixtures/hostile-backend.js';
import { eventually, GATEWAY_ENTRY, TOKEN, tempDbPath } from '../helpers/mesh.js';
import { freePort, REPO_ROOT } from '../helpers/process.js';

/** stopOnSignals' grace: past it the gateway must have exited by itself. */
const SHUTDOWN_TIMER_MS = 10_000;

let backend: HostileBackend;
beforeAll(async () => {
  backend = await startHostileBackend();
});
afterAll(async () => {
  await backend?.close();
});

describe('shutdown with nobody reading the log', () => {
  it('SIGTERM ends a gateway whose stdout pipe is full', async () => {
    const dbPath = tempDbPath();
    const config = join(dbPath, '..', 'meshgate.json');
    writeFileSync(config, JSON.stringify({ services: [{ name: 'hostile', url: `${backend.url}/mcp` }] }));
    const port = await freePort();
    const child = spawn(process.execPath, [GATEWAY_ENTRY], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'debug', MESHGATE_CONFIG: config, MESHGATE_DB_PATH: dbPath },
      // stdout: a pipe this test never reads (it fills after some 64 KiB); stderr ignored.
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child.stdout?.pause();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      await eventually('the gateway serves the hostile backend', async () => {
        const health = (await (await fetch(`${url}/health`)).json()) as { services: Record<string, { status: string }> };
        return health.services['hostile']?.status === 'up';
      });
      // Each registration and deregistration is a log line naming the URL, made 2 KiB long
      // here: hundreds of them are far more than the pipe holds.
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
      const padded = `${backend.url}/mcp?pad=${'p'.repeat(1900)}`;
      const cycle = async (n: number) => {
        try {
          // Generous: a registration connects to the backend and lists it, slow on a loaded
          // machine; a gateway stuck on its log never answers however long this waits.
          const signal = AbortSignal.timeout(10_000);
          const name = `log-${n}`;
          const registered = await fetch(`${url}/register`, { method: 'POST', headers, body: JSON.stringify({ name, url: padded }), signal });
          await registered.text();
          const removed = await fetch(`${url}/services/${name}`, { method: 'DELETE', headers, signal });
          await removed.text();
          return registered.status === 201;
        } catch {
          return false; // a gateway stuck on its log answers nothing
        }
      };
      let answered = 0;
      for (let round = 0; round < 12; round += 1) {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => cycle(round * 10 + i)));
        answered += results.filter(Boolean).length;
        if (results.every((ok) => !ok)) break;
      }
      expect(answered).toBeGreaterThan(0);
      const sent = Date.now();
      child.kill('SIGTERM');
      const timeout = new Promise<'still running'>((resolve) => setTimeout(resolve, SHUTDOWN_TIMER_MS + 5_000, 'still running'));
      const outcome = await Promise.race([exited, timeout]);
      expect(outcome).not.toBe('still running');
      if (outcome !== 'still running') expect(outcome.at - sent).toBeLessThan(SHUTDOWN_TIMER_MS + 2_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  }, 90_000);
});
