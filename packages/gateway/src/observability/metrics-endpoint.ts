import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Lane, parseBearer, tokensEqual } from '@meshgate/service-kit';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import type { GatewayMetrics } from './metrics.js';

/** Who may read `/metrics` on the main port. */
export type MetricsAccess = { ok: true } | { ok: false; status: 401 | 403; message: string };

/**
 * The protection of `/metrics` on the main port, as a pure check: with a token, only a
 * caller presenting it (any address); without one, only loopback callers. A separate
 * metrics port (`MESHGATE_METRICS_PORT`) is open: it is meant for a network only the
 * scraper reaches.
 */
export function metricsAccess(token: string | undefined, remoteAddress: string | undefined, authorization: string | undefined): MetricsAccess {
  if (token !== undefined) {
    const presented = parseBearer(authorization ?? null);
    if (presented.ok && tokensEqual(presented.token, token)) return { ok: true };
    return { ok: false, status: 401, message: 'Unauthorized: /metrics needs the Bearer token of MESHGATE_METRICS_TOKEN' };
  }
  if (isLoopback(remoteAddress)) return { ok: true };
  return {
    ok: false,
    status: 403,
    message: 'Forbidden: /metrics is open to loopback clients only; set MESHGATE_METRICS_TOKEN or MESHGATE_METRICS_PORT to scrape from elsewhere',
  };
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined || !ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === 'loopback';
}

async function serve(metrics: GatewayMetrics, response: ServerResponse): Promise<void> {
  const { body, contentType } = await metrics.scrape();
  response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
}

function fail(response: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'internal', message });
  response.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer realm="meshgate-metrics"' } : {}) });
  response.end(body);
}

function isMetricsGet(request: IncomingMessage): boolean {
  return (request.url === '/metrics' || request.url?.startsWith('/metrics?') === true) && (request.method === 'GET' || request.method === 'HEAD');
}

/** `/metrics` on the main port, as a lane in front of the others; everything else goes on to `next`. */
export function metricsLane(metrics: GatewayMetrics, token: string | undefined, logger: Logger, next: Lane): Lane {
  return (request, response, rest) => {
    if (!isMetricsGet(request)) {
      next(request, response, rest);
      return;
    }
    const access = metricsAccess(token, request.socket.remoteAddress, request.headers.authorization);
    if (!access.ok) {
      fail(response, access.status, access.message);
      return;
    }
    serve(metrics, response).catch((error: unknown) => {
      logger.error({ err: error }, 'metrics scrape failed');
      fail(response, 500, 'Internal error');
    });
  };
}

/** `/metrics` alone on a port of its own; resolves once it listens. */
export async function listenMetrics(metrics: GatewayMetrics, port: number, host: string, logger: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (!isMetricsGet(request)) {
      fail(response, 404, 'Not found: this port serves GET /metrics only');
      return;
    }
    serve(metrics, response).catch((error: unknown) => {
      logger.error({ err: error }, 'metrics scrape failed');
      fail(response, 500, 'Internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
