import { type AuthVariables, mountHealth } from '@meshgate/service-kit';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { GatewayAuth } from '../auth/authenticator.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { Perimeter } from '../security/index.js';
import { adminRoutes } from './admin.js';
import { adminApiAuth, mountProtectedResourceMetadata } from './authorization.js';
import { corsGuard, originGuard, rateLimitGuard, restRefusal } from './perimeter.js';
import { type OpenSessions, sessionRoutes } from './sessions.js';
import { healthView } from './views.js';

export interface HttpDeps {
  registry: Registry;
  sessions: OpenSessions & { readonly size: number };
  auth: GatewayAuth;
  logger: Logger;
  /** Shared with the /mcp pipeline (mcp/pipeline.ts), so a token has one rate budget. */
  perimeter: Perimeter;
}

/** The gateway's HTTP surface besides `/mcp`: `/health` (open), the well-known metadata, `/register`, `/services` and `/sessions` (Bearer). */
export function createHttpApp({ registry, sessions, auth, logger, perimeter }: HttpDeps): Hono<{ Variables: AuthVariables<GatewayIdentity> }> {
  const app = new Hono<{ Variables: AuthVariables<GatewayIdentity> }>();

  mountHealth(app, 'mcp-gateway', () => ({
    ok: true,
    sessions: sessions.size,
    services: Object.fromEntries(registry.list().map((service) => [service.record.name, healthView(service)])),
  }));

  mountProtectedResourceMetadata(app, auth);
  // /mcp never reaches this app: the pipeline in front of it (mcp/pipeline.ts) serves it.
  // Perimeter order here too: Origin/Host (403) before CORS (a preflight is answered without a
  // token), then authentication (401), rate limit (429) after it.
  const rest = adminApiAuth(auth);
  for (const path of ['/register', '/services', '/services/*', '/sessions']) {
    app.use(path, originGuard(perimeter), corsGuard(perimeter), rest, rateLimitGuard(perimeter));
  }
  app.route('/', adminRoutes(registry, { checkUrl: perimeter.checkUrl }));
  app.route('/', sessionRoutes(sessions));

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
