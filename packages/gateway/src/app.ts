import { type Lane, type Logger, listen, type RunningServer } from '@meshgate/service-kit';
import { createGatewayAuth, describeAuth } from './auth/authenticator.js';
import { MemoryBusHub, MemorySessionStateStore } from './cluster/memory.js';
import { PostgresMessageBus } from './cluster/postgres-bus.js';
import { PostgresSessionStateStore } from './cluster/postgres-session-state.js';
import type { MessageBus, SessionStateStore } from './cluster/types.js';
import type { GatewayConfig } from './config/load.js';
import { Federation } from './federation/federation.js';
import { MethodTable } from './federation/methods.js';
import { Subscriptions } from './federation/subscriptions.js';
import { VirtualServers } from './federation/virtual-servers.js';
import { createHttpApp } from './http/app.js';
import { LegacySseEndpoint } from './http/legacy-sse/endpoint.js';
import { ListenStreams } from './http/mcp/listen.js';
import { ModernEndpoint } from './http/mcp/modern.js';
import { McpPipeline } from './http/mcp/pipeline.js';
import type { ServiceRecord } from './model/service.js';
import type { AccessLogger } from './observability/access-log.js';
import type { MetricsSources } from './observability/metrics.js';
import { listenMetrics, metricsLane } from './observability/metrics-endpoint.js';
import { Observer } from './observability/observer.js';
import { OBSERVABILITY_OFF } from './observability/settings.js';
import type { SharedDatabase } from './registry/open.js';
import { Registry } from './registry/registry.js';
import type { RegistryStore } from './registry/types.js';
import { createPerimeter } from './security/index.js';
import { ServiceAudience } from './session/audience.js';
import { wireBroadcasts } from './session/broadcast.js';
import { Dispatcher } from './session/dispatch.js';
import { type SessionCluster, SessionRegistry } from './session/registry.js';
import { SessionSealer } from './session/sealed.js';
import { DEFAULT_LIMITS } from './upstream/limits.js';
import { newInstanceId } from './upstream/loop.js';
import { StdioHost } from './upstream/stdio/index.js';

export interface Gateway {
  readonly server: RunningServer;
  readonly registry: Registry;
  readonly sessions: SessionRegistry;
  readonly virtualServers: VirtualServers;
  /** Metrics, traces, access and audit logs. */
  readonly observer: Observer;
  /** Stops in order: HTTP (and the metrics port), sessions, upstream connections (and the processes of command services), the audit log and span exporter, store; each step runs even if one before it failed. */
  close(): Promise<void>;
}

/**
 * What a process gives the gateway besides its configuration: where access-log lines go
 * (else `logger`), and the database replicas share when the registry is on Postgres.
 */
export interface GatewayOptions {
  accessLogger?: AccessLogger;
  shared?: SharedDatabase;
  /**
   * What replicas share for sessions (cluster/): the Postgres store and bus when several
   * replicas run; by default the memory ones, which one process shares with itself.
   * Only used with `config.sessionKeys` (sealed ids). The gateway closes them.
   */
  cluster?: { state: SessionStateStore; bus: MessageBus };
}

/** Wires the gateway together and starts listening. Holds no logic of its own. */
export async function startGateway(config: GatewayConfig, store: RegistryStore, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const now = new Date().toISOString();
  const configured = config.services.map((service) => ({ ...service, source: 'config', createdAt: now, updatedAt: now }) as ServiceRecord);
  const { credentials } = config;
  for (const warning of credentials.warnings) logger.warn(warning);
  const perimeter = createPerimeter(config.security, options.shared);
  const stdio = new StdioHost({
    logger,
    pidFilePath: config.dbPath === ':memory:' ? undefined : `${config.dbPath}.stdio-pids`,
    backoff: { minMs: config.limits.retryMinMs ?? DEFAULT_LIMITS.retryMinMs, maxMs: config.limits.retryMaxMs ?? DEFAULT_LIMITS.retryMaxMs },
  });
  stdio.reapLeftovers();
  const instanceId = newInstanceId();
  const registry = new Registry({
    store,
    logger,
    configured,
    gatewayToken: config.upstreamToken,
    gatewayTokenForRegistered: credentials.gatewayTokenForRegistered,
    credentialEnv: (source) => credentials.policy.envFor(source),
    maxServices: credentials.maxServices,
    instanceId,
    limits: config.limits,
    stdio,
    registeredDial: perimeter.dial,
    surface: config.surface,
  });
  const subscriptions = new Subscriptions(registry, logger);
  const virtualServers = new VirtualServers({ registry, store, configured: config.virtualServers ?? [], logger });
  const cluster = await sessionCluster(config, options, instanceId, logger);
  const sessions = new SessionRegistry(config.sessions, logger, cluster);
  // Any replica may forget expired shared state and tombstones; each does it now and then.
  const sweeper =
    cluster === undefined
      ? undefined
      : setInterval(() => {
          cluster.state.sweep(Date.now()).catch((error: unknown) => logger.warn({ err: error }, 'could not sweep expired shared session state'));
        }, CLUSTER_SWEEP_MS).unref();
  const observability = config.observability ?? OBSERVABILITY_OFF;
  const observer = new Observer(observability, store, metricsSources(registry, sessions), logger, options.accessLogger);
  const federation = new Federation(registry, subscriptions, config.listPageSize, observer);
  const methods = new MethodTable(federation, logger, observer);
  sessions.onClose((session) => stdio.endSession(session.id));
  const stopBroadcasts = wireBroadcasts(registry, sessions, subscriptions, federation.tasks, virtualServers);
  const audience = new ServiceAudience(registry, sessions, logger, virtualServers);
  const stopAudience = audience.start();
  const auth = createGatewayAuth(config.auth, logger);
  const modern = new ModernEndpoint(methods, registry, new ListenStreams(registry, subscriptions, logger), logger);
  const dispatcher = new Dispatcher(
    methods,
    () => registry.catalog,
    audience,
    logger,
    (session, message) => sessions.forwardAnswer(session, message),
  );
  sessions.onRelayAnswer((session, message) => {
    dispatcher.take(session, message).catch((error: unknown) => logger.warn({ err: error, session: session.key }, 'could not take a relayed answer'));
  });
  const pipeline = new McpPipeline({
    auth,
    perimeter,
    registry,
    sessions,
    dispatcher,
    modern,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    observer,
    virtualServers,
  });
  const legacySse = new LegacySseEndpoint({ auth, perimeter, registry, sessions, dispatcher, logger, maxBodyBytes: config.maxBodyBytes, observer });
  const app = createHttpApp({
    registry,
    sessions,
    auth,
    logger,
    perimeter,
    observer,
    allowStdioRegistration: config.allowStdioRegistration,
    credentials: credentials.policy,
    virtualServers,
  });

  await registry.start();
  await virtualServers.start();
  observer.start();
  const { metrics } = observer;
  const { port: metricsPort, token: metricsToken } = observability.metrics;
  // `/mcp` first (the hot path), then the legacy HTTP+SSE paths, then the Hono app;
  // /metrics in front of them all, unless it has a port of its own.
  const mcpLanes: Lane = (request, response, next) => pipeline.lane(request, response, () => legacySse.lane(request, response, next));
  const lane = metrics === undefined || metricsPort !== undefined ? mcpLanes : metricsLane(metrics, metricsToken, logger, mcpLanes);
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
    virtualServers,
    observer,
    close: async () => {
      pipeline.close();
      legacySse.close();
      // Listen streams end with their final result before the server waits for connections to close.
      modern.close();
      try {
        await server.close();
        await metricsServer?.close();
      } finally {
        try {
          stopBroadcasts();
          virtualServers.stop();
          stopAudience();
          sessions.close();
        } finally {
          try {
            await registry.close();
            await stdio.close(); // whatever a closed connection left draining
            await perimeter.close();
          } finally {
            try {
              // The last calls' audit entries are written before the store closes.
              await observer.close();
            } finally {
              try {
                clearInterval(sweeper);
                await cluster?.bus.close();
                await cluster?.state.close();
              } finally {
                await store.close();
              }
            }
          }
        }
      }
    },
  };
}

/** How often a replica forgets expired shared session state and tombstones. */
const CLUSTER_SWEEP_MS = 10 * 60_000;

/**
 * Sealed session ids and the shared session state, when session keys are set: in the
 * registry's Postgres database when there is one (so every replica on it shares them),
 * else in memory (one process sharing with itself).
 */
async function sessionCluster(config: GatewayConfig, options: GatewayOptions, replicaId: string, logger: Logger): Promise<SessionCluster | undefined> {
  if (config.sessionKeys === undefined) {
    if (options.shared !== undefined)
      logger.warn('the registry is shared through PostgreSQL but MESHGATE_SESSION_KEYS is not set: a session is known only to the replica that opened it');
    return undefined;
  }
  const sealer = new SessionSealer(config.sessionKeys);
  if (options.cluster !== undefined) return { sealer, ...options.cluster };
  if (options.shared !== undefined) {
    const { pool, url } = options.shared;
    const state = await PostgresSessionStateStore.create(pool);
    const bus = await PostgresMessageBus.create(pool, url, { replicaId, logger });
    return { sealer, state, bus };
  }
  logger.warn(
    'MESHGATE_SESSION_KEYS is set but MESHGATE_DATABASE_URL is not: any replica with the keys opens a session id, but log levels, subscriptions, deletions and answers to relayed requests stay on the replica that took them',
  );
  return { sealer, state: new MemorySessionStateStore(), bus: new MemoryBusHub().bus(replicaId) };
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
        held: registry.surfaceReport(record.name).held.length,
        flagged: new Set(registry.surfaceReport(record.name).flags.map((flag) => flag.tool)).size,
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
