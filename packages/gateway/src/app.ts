import { type Logger, listen, type RunningServer } from '@meshgate/service-kit';
import { createGatewayAuth, describeAuth } from './auth/authenticator.js';
import type { GatewayConfig } from './config/load.js';
import { Federation } from './federation/federation.js';
import { MethodTable } from './federation/methods.js';
import { Subscriptions } from './federation/subscriptions.js';
import { createHttpApp } from './http/app.js';
import { ModernEndpoint } from './http/mcp/modern.js';
import { McpPipeline } from './http/mcp/pipeline.js';
import type { ServiceRecord } from './model/service.js';
import { Registry } from './registry/registry.js';
import type { RegistryStore } from './registry/types.js';
import { createPerimeter } from './security/index.js';
import { wireBroadcasts } from './session/broadcast.js';
import { Dispatcher } from './session/dispatch.js';
import { SessionRegistry } from './session/registry.js';

export interface Gateway {
  readonly server: RunningServer;
  readonly registry: Registry;
  readonly sessions: SessionRegistry;
  /** Stops in order: HTTP, sessions, upstream connections, store; each step runs even if one before it failed. */
  close(): Promise<void>;
}

/** Wires the gateway together and starts listening. Holds no logic of its own. */
export async function startGateway(config: GatewayConfig, store: RegistryStore, logger: Logger): Promise<Gateway> {
  const now = new Date().toISOString();
  const configured: ServiceRecord[] = config.services.map((service) => ({ ...service, source: 'config', createdAt: now, updatedAt: now }));
  const perimeter = createPerimeter(config.security);
  const registry = new Registry({
    store,
    logger,
    configured,
    gatewayToken: config.upstreamToken,
    limits: config.limits,
    registeredDial: perimeter.dial,
  });
  const subscriptions = new Subscriptions(registry, logger);
  const methods = new MethodTable(new Federation(registry, subscriptions, config.listPageSize), logger);
  const sessions = new SessionRegistry(config.sessions, logger);
  const stopBroadcasts = wireBroadcasts(registry, sessions, subscriptions);
  const auth = createGatewayAuth(config.auth, logger);
  const modern = new ModernEndpoint(methods, registry, logger);
  const pipeline = new McpPipeline({
    auth,
    perimeter,
    registry,
    sessions,
    dispatcher: new Dispatcher(methods, () => registry.catalog, logger),
    modern,
    logger,
    maxBodyBytes: config.maxBodyBytes,
  });
  const app = createHttpApp({ registry, sessions, auth, logger, perimeter });

  await registry.start();
  const server = await listen(app, { port: config.port, host: config.host, ...config.security.server, lane: pipeline.lane });
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
      try {
        await server.close();
      } finally {
        try {
          stopBroadcasts();
          sessions.close();
          await modern.close();
        } finally {
          try {
            await registry.close();
            await perimeter.close();
          } finally {
            await store.close();
          }
        }
      }
    },
  };
}
