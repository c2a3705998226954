import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Env, Hono } from 'hono';
import type { Logger } from 'pino';

export interface ListenOptions {
  port: number;
  host: string;
  /** Slow-header clients (slowloris) and idle fresh connections are cut off after this. */
  headersTimeoutMs?: number;
  /** The whole request, body included, must arrive within this (slow POST bodies). Responses are not limited. */
  requestTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeoutMs?: number;
  /** Open connections beyond this are closed as soon as they are accepted. */
  maxConnections?: number;
  /** Sees every request before the app does; see {@link Lane}. */
  lane?: Lane;
}

/**
 * A fast path in front of the Hono app, on node's own request and response objects: it
 * serves the requests it fully understands and passes every other one on with `next`,
 * untouched or with the body it already read (`rawBody`, which @hono/node-server reads
 * in place of the stream). The app stays the one place that answers everything else,
 * errors included, so a lane never needs its own error responses.
 */
export type Lane = (request: IncomingMessage, response: ServerResponse, next: (rawBody?: Buffer) => void) => void;

/** Header block limit: node answers 431 past it. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** 9 s plus the 0.5 s check interval below: a slow-header client is gone within 10 s. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 9_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  readonly url: string;
  /** Stops accepting, ends idle keep-alive sockets, waits for in-flight requests. */
  close(): Promise<void>;
}

/** Starts a Hono app on node:http with defensive socket limits. */
export async function listen(app: Pick<Hono<Env>, 'fetch'>, options: ListenOptions): Promise<RunningServer> {
  const toApp = getRequestListener(app.fetch);
  const lane = options.lane;
  const listener =
    lane === undefined
      ? toApp
      : (request: IncomingMessage, response: ServerResponse) =>
          lane(request, response, (rawBody) => {
            if (rawBody !== undefined) Object.assign(request, { rawBody });
            void toApp(request, response);
          });
  // node checks header and request deadlines on this interval (30 s by default, which
  // would let a slowloris client hold a socket for up to 40 s).
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: 500 }, listener);
  server.headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  // Covers receiving the request only: long-lived SSE responses are unaffected.
  server.requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // A connection that never sends a byte must not be held forever. Some node releases start
  // the headers deadline only at a request's first byte, so the socket gets the same
  // deadline until its first request, whichever fires first (node's answers 408, this one
  // closes silently). Then node's keep-alive timeout takes over; SSE responses are never cut.
  server.on('connection', (socket: Socket) => socket.setTimeout(server.headersTimeout));
  // Once per connection: later requests on a keep-alive socket find it already cleared.
  server.on('request', (request: IncomingMessage) => request.socket.timeout && request.socket.setTimeout(0));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    port,
    url: `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // SSE streams never end by themselves: give in-flight work a moment, then cut.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}

export interface Stoppable {
  close(): Promise<void>;
}

/**
 * Runs a service until SIGINT or SIGTERM, then stops it cleanly and exits 0. A second
 * signal, or a shutdown that hangs past `graceMs`, exits at once with code 1. The exit
 * timer is armed before anything is logged, and no log call stands between a decision
 * to exit and the exit: stopping never waits on the log (see log-destination.ts).
 */
export function stopOnSignals(service: Stoppable, logger: Logger, graceMs = 10_000): void {
  let stopping = false;
  const exit = (code: number, log: () => void): never => {
    try {
      log();
    } finally {
      process.exit(code);
    }
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) exit(1, () => logger.warn({ signal }, 'second signal: exiting now'));
    stopping = true;
    setTimeout(() => exit(1, () => logger.error('shutdown took too long: exiting')), graceMs).unref();
    logger.info({ signal }, 'shutting down');
    service.close().then(
      () => exit(0, () => logger.info('stopped')),
      (error: unknown) => exit(1, () => logger.error({ err: error }, 'shutdown failed')),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Logs a start-up failure in one readable line and exits non-zero. */
export function exitOnStartupError(logger: Logger, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  logger.fatal({ reason: message }, `failed to start: ${message}`);
  process.exit(1);
}
