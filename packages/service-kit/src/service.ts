import { Hono } from 'hono';
import { z } from 'zod';
import { type AuthVariables, bearerAuth } from './auth.js';
import { DEFAULT_BEARER_TOKEN, StaticTokenVerifier } from './bearer.js';
import { jsonResponse } from './body.js';
import { type HealthReport, mountHealth } from './health.js';
import { JSONRPC_INTERNAL_ERROR, jsonRpcError } from './jsonrpc.js';
import type { Logger } from './logger.js';
import { type ConnectableServer, McpEndpoint } from './mcp-endpoint.js';
import { listen, type RunningServer } from './server.js';

/** Settings every MCP service reads from its environment. */
export interface ServiceConfig {
  port: number;
  host: string;
  token: string;
}

const portSchema = z.coerce.number().int().min(0).max(65_535);

/** Reads PORT, HOST and MCP_BEARER_TOKEN, with the seed's defaults. Throws a readable error. */
export function serviceConfigFromEnv(defaultPort: number, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const schema = z.object({
    PORT: portSchema.default(defaultPort),
    HOST: z.string().min(1).default('127.0.0.1'),
    MCP_BEARER_TOKEN: z.string().min(1, 'MCP_BEARER_TOKEN must not be empty').default(DEFAULT_BEARER_TOKEN),
  });
  const parsed = schema.safeParse({
    PORT: env['PORT'] === '' ? undefined : env['PORT'],
    HOST: env['HOST'] === '' ? undefined : env['HOST'],
    MCP_BEARER_TOKEN: env['MCP_BEARER_TOKEN'],
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid configuration: ${issues}`);
  }
  return { port: parsed.data.PORT, host: parsed.data.HOST, token: parsed.data.MCP_BEARER_TOKEN };
}

export interface McpServiceOptions {
  name: string;
  config: ServiceConfig;
  logger: Logger;
  /** Builds the service's MCP server (one per session). */
  createServer: () => ConnectableServer;
  /** What `/health` reports beyond the session count; `ok: false` answers 503. */
  health?: () => HealthReport;
}

export interface RunningService extends RunningServer {
  readonly endpoint: McpEndpoint;
}

/**
 * Starts a native MCP service: `POST|GET|DELETE /mcp` behind Bearer auth, open `GET /health`.
 */
export async function startMcpService(options: McpServiceOptions): Promise<RunningService> {
  const { name, config, logger } = options;
  const verifier = new StaticTokenVerifier(config.token);
  const endpoint = new McpEndpoint({ createServer: options.createServer, logger });
  const app = new Hono<{ Variables: AuthVariables }>();
  mountHealth(app, name, () => ({ ok: true, sessions: endpoint.sessionCount, ...options.health?.() }));
  app.use('/mcp', bearerAuth({ authenticate: (token) => (verifier.matches(token) ? { name: 'bearer' } : undefined) }));
  app.all('/mcp', (c) => endpoint.handle(c.req.raw, c.get('identity')));
  app.notFound((c) => c.json({ error: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error) => {
    logger.error({ err: error }, 'request failed');
    return jsonResponse(500, jsonRpcError(null, JSONRPC_INTERNAL_ERROR, 'Internal error'));
  });
  const server = await listen(app, { port: config.port, host: config.host });
  logger.info({ url: `${server.url}/mcp` }, `${name} listening on ${config.host}:${server.port}`);
  return {
    port: server.port,
    url: server.url,
    endpoint,
    close: async () => {
      await endpoint.close();
      await server.close();
    },
  };
}
