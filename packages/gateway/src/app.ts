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
import type { AccessLogger } from './observability/access-log.js';
import type { MetricsSources } from './observability/metrics.js';
import { listenMetrics, metricsLane } from './observability/metrics-endpoint.js';
import { Observer } from './observability/observer.js';
import { OBSERVABILITY_OFF } from './observability/settings.js';
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
  /** Metrics, traces, access and audit logs. */
  readonly observer: Observer;
  /** Stops in order: HTTP (and the metrics port), sessions, upstream connections, the audit log and span exporter, store; each step runs even if one before it failed. */
  close(): Promise<void>;
}

/** What a process gives the gateway besides its configuration: where access-log lines go (else `logger`). */
export interface GatewayOptions {
  accessLogger?: AccessLogger;
}

/** Wires the gateway together and starts listening. Holds no logic of its own. */
export async function startGateway(config: GatewayConfig, store: RegistryStore, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const now = new Date().toISOString();
  const configured: ServiceRecord[] = config.services.map((service) => ({ ...service, source: 'config', createdAt: now, updatedAt: now }));
  const registry = new Registry({ store, logger, configured, gatewayToken: config.upstreamToken, limits: config.limits });
  const subscriptions = new Subscriptions(registry, logger);
  const sessions = new SessionRegistry(config.sessions, logger);
  const observability = config.observability ?? OBSERVABILITY_OFF;
  const observer = new Observer(observability, store, metricsSources(registry, sessions), logger, options.accessLogger);
  const methods = new MethodTable(new Federation(registry, subscriptions, config.listPageSize, observer), logger, observer);
  const stopBroadcasts = wireBroadcasts(registry, sessions, subscriptions);
  const auth = createGatewayAuth(config.auth, logger);
  const perimeter = createPerimeter(config.security);
  const modern = new ModernEndpoint(methods, registry, logger);
  const pipeline = new McpPipeline({
    auth,
    perimeter,
    registry,
    sessions,
    dispatcher: new Dispatcher(methods, () => registry.catalog),
    modern,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    observer,
  });
  const app = createHttpApp({ registry, sessions, auth, logger, perimeter, observer });

  await registry.start();
  observer.start();
  const { metrics } = observer;
  const { port: metricsPort, token: metricsToken } = observability.metrics;
  // /metrics: on its own port when one is set, else on the main one, in front of /mcp.
  const lane = metrics === undefined || metricsPort !== undefined ? pipeline.lane : metricsLane(metrics, metricsToken, logger, pipeline.lane);
  const metricsServer = metrics !== undefined && metricsPort !== undefined ? await listenMetrics(metrics, metricsPort, config.host, logger) : undefined;
  const server = await listen(app, { port: config.port, host: config.host, ...config.security.server, lane });
  logger.info(
    { url: `${server.url}/mcp`, services: config.services.map((s) => s.name), auth: describeAuth(config.auth) },
    `mcp-gateway listening on ${config.host}:${server.port}`,
  );

  return {
    server,
    registry,
    sessions,
    observer,
    close: async () => {
      pipeline.close();
      try {
        await server.close();
        await metricsServer?.close();
      } finally {
        try {
          stopBroadcasts();
          sessions.close();
          await modern.close();
        } finally {
          try {
            await registry.close();
          } finally {
            try {
              // The last calls' audit entries are written before the store closes.
              await observer.close();
            } finally {
              await store.close();
            }
          }
        }
      }
    },
  };
}

/** What the metrics read at scrape time. */
function metricsSources(registry: Registry, sessions: SessionRegistry): MetricsSources {
  return {
    sessions: () => sessions.size,
    services: () =>
      registry.list().map(({ record, connection }) => ({
        name: record.name,
        status: connection.status,
        circuit: connection.circuit,
        reconnects: Math.max(0, connection.sessionsOpened - 1),
      })),
    catalog: () => {
      const { tools, prompts, resources, resourceTemplates } = registry.catalog;
      return {
        tools: tools.entries.length,
        prompts: prompts.entries.length,
        resources: resources.entries.length,
        resourceTemplates: resourceTemplates.entries.length,
      };
    },
  };
}
