import { type Logger, listen, McpEndpoint, type RunningServer } from '@meshgate/service-kit';
import { createGatewayAuth, describeAuth } from './auth/authenticator.js';
import type { GatewayIdentity } from './auth/tokens.js';
import type { GatewayConfig } from './config/load.js';
import { Federation } from './federation/federation.js';
import { SessionServers } from './federation/session-servers.js';
import { statelessHandler } from './federation/stateless.js';
import { createHttpApp } from './http/app.js';
import { mcpLane } from './http/mcp-lane.js';
import type { ServiceRecord } from './model/service.js';
import { Registry } from './registry/registry.js';
import type { RegistryStore } from './registry/types.js';
import { createPerimeter } from './security/index.js';

export interface Gateway {
  readonly server: RunningServer;
  readonly registry: Registry;
  /** Stops in order: HTTP, sessions, upstream connections, store. */
  close(): Promise<void>;
}

/** Wires the gateway together and starts listening. Holds no logic of its own. */
export async function startGateway(config: GatewayConfig, store: RegistryStore, logger: Logger): Promise<Gateway> {
  const now = new Date().toISOString();
  const configured: ServiceRecord[] = config.services.map((service) => ({ ...service, source: 'config', createdAt: now, updatedAt: now }));
  const registry = new Registry({ store, logger, configured, gatewayToken: config.upstreamToken, limits: config.limits });
  const federation = new Federation(registry, logger, config.listPageSize);
  const sessions = new SessionServers(federation, registry, logger);
  const stateless = statelessHandler(sessions, logger);
  const endpoint = new McpEndpoint<GatewayIdentity>({
    createServer: sessions.create,
    sessionless: (message, identity) => federation.dispatch(message, identity),
    modern: stateless.fetch,
    sessionMessage: (server, message) => sessions.lane.receive(server, message),
    logger,
  });
  const auth = createGatewayAuth(config.auth, logger);
  const perimeter = createPerimeter(config.security);
  const app = createHttpApp({ registry, endpoint, auth, logger, perimeter });

  await registry.start();
  const lane = mcpLane({ endpoint, sessionLane: sessions.lane, auth, perimeter });
  const server = await listen(app, { port: config.port, host: config.host, ...config.security.server, lane });
  logger.info(
    { url: `${server.url}/mcp`, services: config.services.map((s) => s.name), auth: describeAuth(config.auth) },
    `mcp-gateway listening on ${config.host}:${server.port}`,
  );

  return {
    server,
    registry,
    close: async () => {
      await server.close();
      await endpoint.close();
      await stateless.close();
      sessions.close();
      await registry.close();
      await store.close();
    },
  };
}
