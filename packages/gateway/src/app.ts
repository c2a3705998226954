import { type Lane, type Logger, listen, type RunningServer } from '@meshgate/service-kit';
import { createGatewayAuth, describeAuth } from './auth/authenticator.js';
import type { GatewayConfig } from './config/load.js';
import { Federation } from './federation/federation.js';
import { MethodTable } from './federation/methods.js';
import { Subscriptions } from './federation/subscriptions.js';
import { createHttpApp } from './http/app.js';
import { LegacySseEndpoint } from './http/legacy-sse/endpoint.js';
import { ModernEndpoint } from './http/mcp/modern.js';
import { McpPipeline } from './http/mcp/pipeline.js';
import type { ServiceRecord } from './model/service.js';
import { Registry } from './registry/registry.js';
import type { RegistryStore } from './registry/types.js';
import { createPerimeter } from './security/index.js';
import { ServiceAudience } from './session/audience.js';
import { wireBroadcasts } from './session/broadcast.js';
import { Dispatcher } from './session/dispatch.js';
import { SessionRegistry } from './session/registry.js';
import { DEFAULT_LIMITS } from './upstream/limits.js';
import { StdioHost } from './upstream/stdio/index.js';

export interface Gateway {
  readonly server: RunningServer;
  readonly registry: Registry;
  readonly sessions: SessionRegistry;
  /** Stops in order: HTTP, sessions, upstream connections (and the processes of command services), store; each step runs even if one before it failed. */
  close(): Promise<void>;
}

/** Wires the gateway together and starts listening. Holds no logic of its own. */
export async function startGateway(config: GatewayConfig, store: RegistryStore, logger: Logger): Promise<Gateway> {
  const now = new Date().toISOString();
  const configured = config.services.map((service) => ({ ...service, source: 'config', createdAt: now, updatedAt: now }) as ServiceRecord);
  const stdio = new StdioHost({
    logger,
    pidFilePath: config.dbPath === ':memory:' ? undefined : `${config.dbPath}.stdio-pids`,
    backoff: { minMs: config.limits.retryMinMs ?? DEFAULT_LIMITS.retryMinMs, maxMs: config.limits.retryMaxMs ?? DEFAULT_LIMITS.retryMaxMs },
  });
  stdio.reapLeftovers();
  const registry = new Registry({ store, logger, configured, gatewayToken: config.upstreamToken, limits: config.limits, stdio });
  const subscriptions = new Subscriptions(registry, logger);
  const federation = new Federation(registry, subscriptions, config.listPageSize);
  const methods = new MethodTable(federation, logger);
  const sessions = new SessionRegistry(config.sessions, logger);
  sessions.onClose((session) => stdio.endSession(session.id));
  const stopBroadcasts = wireBroadcasts(registry, sessions, subscriptions, federation.tasks);
  const audience = new ServiceAudience(registry, sessions, logger);
  const stopAudience = audience.start();
  const auth = createGatewayAuth(config.auth, logger);
  const perimeter = createPerimeter(config.security);
  const modern = new ModernEndpoint(methods, registry, logger);
  const dispatcher = new Dispatcher(methods, () => registry.catalog, audience);
  const pipeline = new McpPipeline({ auth, perimeter, registry, sessions, dispatcher, modern, logger, maxBodyBytes: config.maxBodyBytes });
  const legacySse = new LegacySseEndpoint({ auth, perimeter, registry, sessions, dispatcher, logger, maxBodyBytes: config.maxBodyBytes });
  const app = createHttpApp({ registry, sessions, auth, logger, perimeter, allowStdioRegistration: config.allowStdioRegistration });

  await registry.start();
  // `/mcp` first (the hot path), then the legacy HTTP+SSE paths, then the Hono app.
  const lane: Lane = (request, response, next) => pipeline.lane(request, response, () => legacySse.lane(request, response, next));
  const server = await listen(app, { port: config.port, host: config.host, ...config.security.server, lane });
  logger.info(
    { url: `${server.url}/mcp`, services: config.services.map((s) => s.name), auth: describeAuth(config.auth) },
    `mcp-gateway listening on ${config.host}:${server.port}`,
  );

  return {
    server,
    registry,
    sessions,
    close: async () => {
      pipeline.close();
      legacySse.close();
      try {
        await server.close();
      } finally {
        try {
          stopBroadcasts();
          stopAudience();
          sessions.close();
          await modern.close();
        } finally {
          try {
            await registry.close();
            await stdio.close(); // whatever a closed connection left draining
          } finally {
            await store.close();
          }
        }
      }
    },
  };
}
