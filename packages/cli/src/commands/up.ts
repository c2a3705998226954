import { type ChildProcess, spawn } from 'node:child_process';
import type { Context } from '../context.js';
import { failed, usageError } from '../errors.js';
import { resolvePackageFile } from '../gateway.js';
import { withProgress } from '../progress.js';
import { USAGE } from './specs.js';

/** The flags `npm start` and the gateway's image run it with (docs/decisions/0004-gateway-heap.md). */
const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=8', '--min-semi-space-size=8', '--heap-growing-percent=20', '--no-allocation-site-pretenuring'];

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

/** Each line of a child's output, prefixed with its name (as `npm start` does). */
function pipeLines(name: string, from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream, width: number): void {
  if (from === null) return;
  let rest = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) to.write(`[${name.padEnd(width)}] ${line}\n`);
  });
  from.on('end', () => {
    if (rest !== '') to.write(`[${name.padEnd(width)}] ${rest}\n`);
  });
}

/**
 * `meshgate up`: runs the gateway (with `--demo`, the seed's shopping-service and
 * user-service next to it, by default on the two ports after the gateway's), each a child process
 * with its output prefixed, until Ctrl-C or SIGTERM; a child that dies stops the others.
 * Everything else comes from the environment, as for the gateway itself.
 */
export async function up(context: Pick<Context, 'io' | 'env'>, positionals: string[], values: Record<string, unknown>): Promise<number> {
  if (positionals.length > 0) throw usageError(`unexpected ${positionals.join(' ')}\n\n${USAGE.up}`);
  const port = portOf(values['port'] ?? context.env['PORT'] ?? '3001', '--port');
  const shoppingPort = portOf(values['shopping-port'] ?? String(port + 1), '--shopping-port');
  const userPort = portOf(values['user-port'] ?? String(port + 2), '--user-port');
  const gatewayMain = resolvePackageFile('@meshgate/gateway', 'dist/main.js', 'up');
  const demo = values['demo'] === true;
  const plan: Array<{ name: string; entry: string; port: number; flags: string[] }> = [];
  if (demo) {
    plan.push({
      name: 'shopping-service',
      entry: resolvePackageFile('@meshgate/shopping-service', 'dist/main.js', 'up --demo'),
      port: shoppingPort,
      flags: [],
    });
    plan.push({ name: 'user-service', entry: resolvePackageFile('@meshgate/user-service', 'dist/main.js', 'up --demo'), port: userPort, flags: [] });
  }
  plan.push({ name: 'mcp-gateway', entry: gatewayMain, port, flags: GATEWAY_NODE_FLAGS });

  const host = context.env['HOST'] ?? '127.0.0.1';
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const base: NodeJS.ProcessEnv = {
    ...context.env,
    LOG_FORMAT: context.env['LOG_FORMAT'] || ((context.io.stdout as { isTTY?: boolean }).isTTY ? 'pretty' : 'json'),
    ...(demo ? { SHOPPING_SERVICE_URL: `http://${local}:${shoppingPort}/mcp`, USER_SERVICE_URL: `http://${local}:${userPort}/mcp` } : {}),
  };
  const width = Math.max(...plan.map((step) => step.name.length));
  const children: Child[] = [];
  const start = (step: (typeof plan)[number]): Child => {
    const child = spawn(process.execPath, [...step.flags, step.entry], { env: { ...base, PORT: String(step.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    pipeLines(step.name, child.stdout, context.io.stdout, width);
    pipeLines(step.name, child.stderr, context.io.stderr, width);
    const exited = new Promise<number | null>((resolve) => {
      child.once('close', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    const started = { name: step.name, process: child, exited };
    children.push(started);
    return started;
  };

  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGTERM');
    await Promise.all(children.map((child) => child.exited));
  };
  const onSignal = () => {
    void stopAll();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const urlOf = (at: number) => `http://${local.includes(':') ? `[${local}]` : local}:${at}`;
  let resolveExit!: (exit: { child: Child; code: number | null }) => void;
  const firstExit = new Promise<{ child: Child; code: number | null }>((resolve) => {
    resolveExit = resolve;
  });
  // The services first, so the gateway finds them at once instead of retrying.
  const ready = await withProgress(context.io.stderr, demo ? 'starting the demo services, then the gateway' : 'starting the gateway', async () => {
    for (const batch of [plan.slice(0, -1), plan.slice(-1)]) {
      const started = batch.map(start);
      for (const child of started) void child.exited.then((code) => resolveExit({ child, code }));
      const healthy = Promise.all(batch.map((step) => waitForHealth(urlOf(step.port), () => stopping)));
      if (!(await Promise.race([healthy.then((all) => all.every(Boolean)), firstExit.then(() => false)]))) return false;
    }
    return true;
  });
  const gatewayUrl = urlOf(port);
  if (ready) {
    context.io.stderr.write(
      `\nMeshgate is up: ${gatewayUrl}/mcp${demo ? ' with shopping-service and user-service' : ''}. Try: meshgate status --url ${gatewayUrl}\n`,
    );
  }
  const { child, code } = await firstExit;
  if (stopping) {
    await stopAll();
    return 0;
  }
  stopping = true;
  context.io.stderr.write(`${child.name} exited (code ${code}); stopping the others\n`);
  await stopAll();
  throw failed(`${child.name} exited with code ${code}; its output above says why`);
}

function portOf(raw: unknown, option: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw usageError(`${option} must be a port number, not ${JSON.stringify(raw)}`);
  return port;
}

/** Resolves true once `/health` answers 200, false once `gaveUp` says so (polled; the caller races it against the children exiting). */
async function waitForHealth(url: string, gaveUp: () => boolean): Promise<boolean> {
  while (!gaveUp()) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((wake) => setTimeout(wake, 200));
  }
  return false;
}
