import { jsonResponse, mountHealth, type AuthVariables, type McpEndpoint } from '@meshgate/service-kit';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { GatewayAuth } from '../auth/authenticator.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import { adminRoutes } from './admin.js';
import { adminApiAuth, mcpAuth, mountProtectedResourceMetadata } from './authorization.js';
import { healthView } from './views.js';

export interface HttpDeps {
  registry: Registry;
  endpoint: McpEndpoint<GatewayIdentity>;
  auth: GatewayAuth;
  logger: Logger;
}

/** The gateway's HTTP surface: `/health` (open), `/mcp`, `/register`, `/services` (Bearer). */
export function createHttpApp({ registry, endpoint, auth, logger }: HttpDeps): Hono<{ Variables: AuthVariables<GatewayIdentity> }> {
  const app = new Hono<{ Variables: AuthVariables<GatewayIdentity> }>();

  mountHealth(app, 'mcp-gateway', () => ({
    ok: true,
    sessions: endpoint.sessionCount,
    services: Object.fromEntries(registry.list().map((service) => [service.record.name, healthView(service)])),
  }));

  mountProtectedResourceMetadata(app, auth);
  app.use('/mcp', mcpAuth(auth));
  app.all('/mcp', (c) => endpoint.handle(c.req.raw, c.get('identity')));

  const rest = adminApiAuth(auth);
  app.use('/register', rest);
  app.use('/services', rest);
  app.use('/services/*', rest);
  app.route('/', adminRoutes(registry));

  app.notFound((c) => c.json({ error: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error) => {
    if (error instanceof GatewayError) {
      if (error.status >= 500) logger.warn({ code: error.code, reason: error.message }, 'request failed');
      return jsonResponse(error.status, error.toJSON());
    }
    logger.error({ err: error }, 'unhandled error');
    return jsonResponse(500, { error: 'internal', message: 'Internal error' });
  });
  return app;
}
