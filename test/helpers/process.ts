/**
 * Real processes for tests: start a compiled service, wait until its /health answers,
 * stop it with a signal. Shared by the services' tests and the gateway's end-to-end tests.
 * Entries are compiled `dist` files, so build first (`npm test` does).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; relative entries are resolved against it. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StartProcessOptions {
  /** Script to run with node, absolute or relative to the repository root, e.g. `packages/user-service/dist/main.js`. */
  entry: string;
  /**
   * Extra environment. PORT defaults to a free port (PORT=0 is refused: the URL must be
   * known before start), HOST to 127.0.0.1, LOG_FORMAT to json.
   */
  env?: Record<string, string>;
  /** Label used in error messages. */
  name?: string;
  /** Path polled until it answers 200; defaults to `/health`. */
  healthPath?: string;
  /** How long to wait for health; defaults to 15 s. */
  timeoutMs?: number;
}

export interface StartedProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code when the process ends (null if a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Sends a signal (default SIGTERM) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Ends the process at once (SIGKILL) and waits for it. */
  kill(): Promise<number | null>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

const running = new Set<StartedProcess>();

/** A TCP port free right now on 127.0.0.1 (the OS picks it; another process could take it later). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts `node <entry>` and resolves once GET <healthPath> answers 200. Rejects, with the
 * captured output in the message, if the process exits first or health times out.
 */
export async function startProcess(options: StartProcessOptions): Promise<StartedProcess> {
  const entry = isAbsolute(options.entry) ? options.entry : resolve(REPO_ROOT, options.entry);
  const name = options.name ?? options.entry;
  if (!existsSync(entry)) throw new Error(`${name}: ${entry} does not exist; build first (npm run build)`);
  const port = options.env?.['PORT'] !== undefined ? Number(options.env['PORT']) : await freePort();
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${name}: PORT must be a fixed port number; leave it unset to get a free one`);
  const env = { ...process.env, HOST: '127.0.0.1', LOG_FORMAT: 'json', ...options.env, PORT: String(port) };
  const child = spawn(process.execPath, [entry], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });

  let captured = '';
  child.stdout?.on('data', (chunk: Buffer) => (captured += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (captured += chunk.toString('utf8')));
  let done = false;
  const exited = new Promise<number | null>((resolveExit) => {
    // 'close', not 'exit': it waits for stdout and stderr to drain, so output() is complete.
    child.once('close', (code) => {
      done = true;
      running.delete(started);
      resolveExit(code);
    });
    // A spawn failure never emits 'exit'; report it as a failed start.
    child.once('error', (error) => {
      captured += `\n[spawn error] ${error.message}`;
      done = true;
      running.delete(started);
      resolveExit(null);
    });
  });

  const signal = (sig: NodeJS.Signals): Promise<number | null> => {
    if (!done) child.kill(sig);
    return exited;
  };
  const started: StartedProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    exited,
    stop: (sig = 'SIGTERM') => signal(sig),
    kill: () => signal('SIGKILL'),
    output: () => captured,
  };
  running.add(started);

  const healthUrl = `${started.url}${options.healthPath ?? '/health'}`;
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    if (done) throw new Error(`${name} exited before becoming healthy (code ${await exited}). Output:\n${captured}`);
    if (await answers200(healthUrl)) return started;
    if (Date.now() > deadline) {
      await started.kill();
      throw new Error(`${name} did not answer 200 on ${healthUrl} within ${options.timeoutMs ?? 15_000} ms. Output:\n${captured}`);
    }
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false; // not listening yet
  }
}

/** Kills every process started here that is still running; for `afterAll`. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill()));
}

// A crashed or interrupted test run must not leave services holding ports.
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});
