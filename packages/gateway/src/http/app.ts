import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthVariables, mountHealth } from '@meshgate/service-kit';
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { GatewayAuth } from '../auth/authenticator.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { VirtualServers } from '../federation/virtual-servers.js';
import type { Observer } from '../observability/observer.js';
import type { Registry } from '../registry/registry.js';
import type { Perimeter } from '../security/index.js';
import type { CredentialPolicy } from '../upstream/credential-policy.js';
import { adminRoutes } from './admin.js';
import { auditRoutes } from './audit.js';
import { adminApiAuth, mountProtectedResourceMetadata } from './authorization.js';
import { dashboardRoutes, defaultDashboardDir } from './dashboard.js';
import { dashboardApiRoutes } from './dashboard-api.js';
import { callerHasToken, corsGuard, originGuard, rateLimitGuard, restRefusal } from './perimeter.js';
import { type OpenSessions, sessionRoutes } from './sessions.js';
import { clientServiceView, healthView, seesEverything } from './views.js';
import { virtualServerRoutes } from './virtual-servers.js';

export interface HttpDeps {
  registry: Registry;
  sessions: OpenSessions & { readonly size: number };
  auth: GatewayAuth;
  logger: Logger;
  /** Shared with the /mcp pipeline (mcp/pipeline.ts), so a token has one rate budget. */
  perimeter: Perimeter;
  /** Whether `POST /register` may name a command (MESHGATE_ALLOW_STDIO_REGISTRATION). */
  allowStdioRegistration?: boolean;
  /** Access-log lines of the admin API; its audit log records admin changes, and `/audit` serves it. */
  observer?: Observer | undefined;
  /** What a registration's credential may be. */
  credentials?: CredentialPolicy;
  /** Where the dashboard's built bundle is (`/admin`); default: the dashboard package's dist, found at run time. */
  dashboardDir?: string;
  /** The virtual servers, managed at `/virtual-servers`; each one's protected resource metadata is served too. */
  virtualServers?: VirtualServers;
}

/** The gateway's HTTP surface besides `/mcp`: `/health` (open), the well-known metadata, `/register`, `/services`, `/sessions`, `/stats`, `/whoami` and `/audit` (Bearer), the dashboard's files at `/admin` (open). */
export function createHttpApp({
  registry,
  sessions,
  auth,
  logger,
  perimeter,
  observer,
  credentials,
  virtualServers,
  allowStdioRegistration = false,
  dashboardDir: dashboard = defaultDashboardDir(),
}: HttpDeps): Hono<{ Variables: AuthVariables<GatewayIdentity> }> {
  const app = new Hono<{ Variables: AuthVariables<GatewayIdentity> }>();

  // Open, as the seed's `curl …/health` is: names, statuses and tool counts for anyone;
  // the reasons of failures only for a caller with a valid token (docs/security.md).
  const tokenHolder = callerHasToken(auth, perimeter);
  mountHealth(app, 'mcp-gateway', async (c) => {
    const withReason = await tokenHolder(c);
    return {
      ok: true,
      sessions: sessions.size,
      services: Object.fromEntries(registry.list().map((service) => [service.record.name, healthView(service, withReason)])),
    };
  });

  mountProtectedResourceMetadata(app, auth, perimeter, (name) => virtualServers?.get(name) !== undefined);
  // /mcp never reaches this app: the pipeline in front of it (mcp/pipeline.ts) serves it.
  // Perimeter order here too: Origin/Host (403) before CORS (a preflight is answered without a
  // token), then authentication (401), rate limit (429) after it.
  const rest = adminApiAuth(auth, perimeter);
  const audit = observer?.audit;
  // `/services/*` matches `/services` too (Hono), so one pattern guards both, once: with both
  // listed, auth ran twice and a request took two units of its token's rate budget.
  const paths = [
    '/register',
    '/services/*',
    '/sessions',
    '/stats',
    '/whoami',
    ...(virtualServers === undefined ? [] : ['/virtual-servers/*']),
    ...(audit === undefined ? [] : ['/audit/*']),
  ];
  // The admin API's access-log lines (and X-Request-Id), like /mcp's; /health and the metadata stay out of the log.
  // One middleware for all of it: `/services/*` matches `/services` too, so per-path ones would log twice.
  if (observer !== undefined) app.use('*', accessLog(observer));
  for (const path of paths) app.use(path, originGuard(perimeter), corsGuard(perimeter), rest, rateLimitGuard(perimeter));
  app.route(
    '/',
    adminRoutes(registry, {
      checkUrl: perimeter.checkUrl,
      allowStdioRegistration,
      logger,
      ...(credentials === undefined ? {} : { credentials }),
      ...(audit === undefined ? {} : { audit: (entry) => audit.record(entry) }),
    }),
  );
  app.route('/', sessionRoutes(sessions));
  if (virtualServers !== undefined) {
    app.route(
      '/',
      virtualServerRoutes(virtualServers, () => registry.catalog, audit === undefined ? undefined : (entry) => audit.record(entry)),
    );
  }
  if (audit !== undefined) app.route('/', auditRoutes(audit));
  app.route(
    '/',
    dashboardApiRoutes(observer?.metrics, (identity) => (name) => {
      const service = registry.get(name);
      return service !== undefined && (seesEverything(identity) || clientServiceView(service, registry.catalog, identity) !== undefined);
    }),
  );
  // The dashboard's static bundle: public files (no data in them); what it shows comes from the API above, with the user's token.
  app.route('/', dashboardRoutes(dashboard));

  app.notFound((c) => c.json({ error: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error) => {
    if (error instanceof GatewayError) {
      if (error.status >= 500) logger.warn({ code: error.code, reason: error.message }, 'request failed');
      return restRefusal(error);
    }
    logger.error({ err: error }, 'unhandled error');
    return restRefusal(new GatewayError('internal', 'Internal error'));
  });
  return app;
}

/** The admin API's paths: what gets access-log lines. */
const ADMIN_PATH = /^\/(register|services|virtual-servers|stats|whoami|audit)(\/|$)/;
/** The admin API's refusals that the metrics count, by status (the perimeter's and auth's). */
const REFUSALS: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 429: 'rate_limited' };

/** One access-log line per admin API request, with the caller's identity once authenticated; auth and rate-limit refusals counted. */
function accessLog(observer: Observer): MiddlewareHandler<{ Variables: AuthVariables<GatewayIdentity> }> {
  return async function accessLogMiddleware(c, next) {
    const node = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    if (node?.incoming === undefined || node.outgoing === undefined || !ADMIN_PATH.test(c.req.path)) return next();
    const record = observer.begin(node.incoming, node.outgoing);
    try {
      await next();
    } finally {
      record.identity = c.get('identity')?.name;
      const refusal = REFUSALS[c.res.status];
      if (refusal !== undefined) observer.refused(record, refusal);
    }
  };
}
