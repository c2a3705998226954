import { type AuthVariables, jsonResponse, type McpEndpoint, mountHealth } from '@meshgate/service-kit';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { GatewayAuth } from '../auth/authenticator.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { Perimeter } from '../security/index.js';
import { adminRoutes } from './admin.js';
import { adminApiAuth, mcpAuth, mountProtectedResourceMetadata } from './authorization.js';
import { healthView } from './views.js';

export interface HttpDeps {
  registry: Registry;
  endpoint: McpEndpoint<GatewayIdentity>;
  auth: GatewayAuth;
  logger: Logger;
  /** Shared with the MCP lane (mcp-lane.ts), so a token has one rate budget. */
  perimeter: Perimeter;
}

/** The gateway's HTTP surface: `/health` (open), `/mcp`, `/register`, `/services` (Bearer). */
export function createHttpApp({ registry, endpoint, auth, logger, perimeter }: HttpDeps): Hono<{ Variables: AuthVariables<GatewayIdentity> }> {
  const app = new Hono<{ Variables: AuthVariables<GatewayIdentity> }>();

  mountHealth(app, 'mcp-gateway', () => ({
    ok: true,
    sessions: endpoint.sessionCount,
    services: Object.fromEntries(registry.list().map((service) => [service.record.name, healthView(service)])),
  }));

  mountProtectedResourceMetadata(app, auth);
  // Perimeter order: Origin/Host (403) before authentication (401), rate limit (429) after it.
  app.use('/mcp', perimeter.guard('jsonrpc'));
  app.use('/mcp', mcpAuth(auth));
  app.use('/mcp', perimeter.limit('jsonrpc'));
  app.all('/mcp', (c) => endpoint.handle(c.req.raw, c.get('identity')));

  const rest = adminApiAuth(auth);
  for (const path of ['/register', '/services', '/services/*']) app.use(path, perimeter.guard('rest'), rest, perimeter.limit('rest'));
  app.route('/', adminRoutes(registry, { checkUrl: perimeter.checkUrl }));

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
