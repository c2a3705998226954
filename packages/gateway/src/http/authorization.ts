import { type AuthVariables, bearerAuth } from '@meshgate/service-kit';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { GatewayAuth } from '../auth/authenticator.js';
import { adminApiNeed, authorize, bearerChallenge, METADATA_PATH, metadataUrlFor, protectedResourceMetadata, resourceUrlFor } from '../auth/metadata.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { unknownVirtualServer } from '../federation/virtual-servers.js';
import { virtualServerPath } from '../model/virtual-server.js';
import type { Perimeter } from '../security/index.js';
import { hostRefusal, incomingOf, requestHost, restRefusal } from './perimeter.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };

/**
 * The resource URL (RFC 8707) of the MCP endpoint a request reached: the configured one,
 * else built from the checked Host header, never from the request target, which an
 * absolute-form request (`GET http://evil.example/…`) fills with any host it likes.
 */
export function resourceUrlOf(auth: GatewayAuth, host: string, endpoint = '/mcp'): string {
  return resourceUrlFor(`http://${host}/mcp`, auth.resource, endpoint);
}
/**
 * Bearer authentication and role checks for the admin API (MCP authorization spec): 401
 * names the protected resource metadata in `WWW-Authenticate`; a valid token without the
 * needed role gets 403 with `error="insufficient_scope"` and the scope to ask for. Reading
 * needs any role, changing needs admin (see adminApiNeed). (/mcp makes the same checks in
 * its pipeline's stages, http/mcp/stages.ts.)
 */
export function adminApiAuth(auth: GatewayAuth, perimeter: Perimeter): MiddlewareHandler<Env> {
  const authenticate = bearerAuth<GatewayIdentity>({
    authenticate: (token) => auth.authenticate(token),
    format: 'rest',
    // The Host was checked by originGuard before this runs.
    challengeParams: (request) => ({ resource_metadata: metadataUrlFor(resourceUrlOf(auth, request.headers.get('host') ?? new URL(request.url).host)) }),
  });
  const metadataUrl = (c: Context) => metadataUrlFor(resourceUrlOf(auth, requestHost(c)));
  return async function adminApiAuthMiddleware(c, next) {
    const address = incomingOf(c)?.socket.remoteAddress;
    const throttled = await perimeter.authRefusal(address);
    if (throttled !== undefined) return restRefusal(throttled);
    // Authentication answers 401 on its own; authorization runs only once it has passed.
    let authenticated = false;
    const denied = await authenticate(c, async () => {
      authenticated = true;
    });
    if (!authenticated) {
      // A token given and refused is a guess: counted against the address (none given is not).
      if (c.req.header('authorization') !== undefined) perimeter.authFailed(address);
      return denied as Response;
    }
    const verdict = authorize(c.get('identity'), adminApiNeed(c.req.method, c.req.path), auth.resource.scopes);
    if (!verdict.ok) {
      const challenge = bearerChallenge({ realm: 'meshgate', error: 'insufficient_scope', scope: verdict.scope, resource_metadata: metadataUrl(c) });
      return restRefusal(new GatewayError('forbidden', verdict.message, undefined, { 'www-authenticate': challenge }));
    }
    await next();
  };
}

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), at the root well-known URL and at the
 * `/mcp` path-suffixed one that MCP clients try first, and for each virtual server at
 * `/servers/{name}/mcp`'s (its own resource; `exists` says which names are servers). Public,
 * so any origin may read it.
 */
export function mountProtectedResourceMetadata(
  app: Hono<Env>,
  auth: GatewayAuth,
  perimeter: Perimeter,
  exists: (server: string) => boolean = () => false,
): void {
  const serve =
    (endpoint: (c: Context) => string): MiddlewareHandler<Env> =>
    async (c) => {
      const refused = hostRefusal(perimeter, c);
      if (refused !== undefined) return restRefusal(refused);
      const resource = resourceUrlOf(auth, requestHost(c), endpoint(c));
      return c.json(protectedResourceMetadata(resource, auth.resource), 200, { 'access-control-allow-origin': '*' });
    };
  const mcp = serve(() => '/mcp');
  app.get(METADATA_PATH, mcp);
  app.get(`${METADATA_PATH}/mcp`, mcp);
  app.get(`${METADATA_PATH}/servers/:name/mcp`, async (c, next) => {
    const name = c.req.param('name');
    if (!exists(name)) return restRefusal(unknownVirtualServer(name));
    return serve(() => virtualServerPath(name))(c, next);
  });
}
