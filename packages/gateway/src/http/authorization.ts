import { type AuthVariables, bearerAuth } from '@meshgate/service-kit';
import type { Hono, MiddlewareHandler } from 'hono';
import type { GatewayAuth } from '../auth/authenticator.js';
import { adminApiNeed, authorize, bearerChallenge, METADATA_PATH, metadataUrlFor, protectedResourceMetadata, resourceUrlFor } from '../auth/metadata.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { restRefusal } from './perimeter.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };
/**
 * Bearer authentication and role checks for the admin API (MCP authorization spec): 401
 * names the protected resource metadata in `WWW-Authenticate`; a valid token without the
 * needed role gets 403 with `error="insufficient_scope"` and the scope to ask for. Reading
 * needs any role, changing needs admin (see adminApiNeed). (/mcp makes the same checks in
 * its pipeline's stages, http/mcp/stages.ts.)
 */
export function adminApiAuth(auth: GatewayAuth): MiddlewareHandler<Env> {
  const metadataUrl = (request: Request) => metadataUrlFor(resourceUrlFor(request.url, auth.resource));
  const authenticate = bearerAuth<GatewayIdentity>({
    authenticate: (token) => auth.authenticate(token),
    format: 'rest',
    challengeParams: (request) => ({ resource_metadata: metadataUrl(request) }),
  });
  return async function adminApiAuthMiddleware(c, next) {
    // Authentication answers 401 on its own; authorization runs only once it has passed.
    let authenticated = false;
    const denied = await authenticate(c, async () => {
      authenticated = true;
    });
    if (!authenticated) return denied as Response;
    const verdict = authorize(c.get('identity'), adminApiNeed(c.req.method, c.req.path), auth.resource.scopes);
    if (!verdict.ok) {
      const challenge = bearerChallenge({ realm: 'meshgate', error: 'insufficient_scope', scope: verdict.scope, resource_metadata: metadataUrl(c.req.raw) });
      return restRefusal(new GatewayError('forbidden', verdict.message, undefined, { 'www-authenticate': challenge }));
    }
    await next();
  };
}

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), at the root well-known URL and at the
 * `/mcp` path-suffixed one that MCP clients try first. Public, so any origin may read it.
 */
export function mountProtectedResourceMetadata(app: Hono<Env>, auth: GatewayAuth): void {
  const serve: MiddlewareHandler<Env> = async (c) => {
    const resource = resourceUrlFor(c.req.url, auth.resource);
    return c.json(protectedResourceMetadata(resource, auth.resource), 200, { 'access-control-allow-origin': '*' });
  };
  app.get(METADATA_PATH, serve);
  app.get(`${METADATA_PATH}/mcp`, serve);
}
