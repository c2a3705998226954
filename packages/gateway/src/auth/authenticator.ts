import type { Logger } from 'pino';
import { type JwtOptions, JwtVerifier, looksLikeJwt } from './jwt.js';
import type { ResourceOptions } from './metadata.js';
import type { ScopeMap } from './scopes.js';
import { type GatewayIdentity, TokenAuthenticator, type TokenEntry } from './tokens.js';

/** Everything the gateway's authentication is built from, resolved from configuration. */
export interface AuthConfig {
  /** Static tokens (secrets resolved); the default token when nothing else is configured. */
  tokens: TokenEntry[];
  /** JWT access tokens, when a JWKS is configured. */
  jwt?: Omit<JwtOptions, 'scopes'>;
  /** The canonical URL of the MCP endpoint (MESHGATE_RESOURCE_URL). */
  resourceUrl?: string;
  scopes: ScopeMap;
}

/** The gateway's door: who a Bearer token belongs to, and what it says about itself. */
export interface GatewayAuth {
  /** Static tokens answer at once; a JWT is checked against the JWKS, which may take a fetch. */
  authenticate(token: string): GatewayIdentity | undefined | Promise<GatewayIdentity | undefined>;
  readonly resource: ResourceOptions;
}

/**
 * Static tokens first (constant time over every entry), then, for what looks like a JWT,
 * the JWKS check. Both kinds can be accepted side by side. Rejections are logged with
 * their reason, never with the token.
 */
export function createGatewayAuth(config: AuthConfig, logger: Logger, jwtVerifier?: JwtVerifier): GatewayAuth {
  const tokens = new TokenAuthenticator(config.tokens);
  const jwt = jwtVerifier ?? (config.jwt === undefined ? undefined : new JwtVerifier({ ...config.jwt, scopes: config.scopes }));
  return {
    resource: {
      scopes: config.scopes,
      ...(config.resourceUrl === undefined ? {} : { resourceUrl: config.resourceUrl }),
      ...(config.jwt === undefined ? {} : { issuer: config.jwt.issuer }),
    },
    authenticate(token) {
      const identity = tokens.authenticate(token);
      if (identity !== undefined || jwt === undefined || !looksLikeJwt(token)) return identity;
      return verifyJwt(jwt, token, logger);
    },
  };
}

async function verifyJwt(jwt: JwtVerifier, token: string, logger: Logger): Promise<GatewayIdentity | undefined> {
  const result = await jwt.verify(token);
  if (result.ok) return result.identity;
  if (result.serverFault) logger.warn({ reason: result.reason }, 'JWT could not be checked');
  else logger.debug({ reason: result.reason }, 'JWT refused');
  return undefined;
}

/** What the log may say about the configured authentication: names and issuers, no secrets. */
export function describeAuth(config: AuthConfig): Record<string, unknown> {
  return {
    tokenNames: config.tokens.map((entry) => `${entry.name} (${entry.roles.join('+')}${entry.tools === undefined ? '' : `, ${entry.tools.length} tools`})`),
    ...(config.jwt === undefined ? {} : { jwtIssuer: config.jwt.issuer, jwtAudience: config.jwt.audience }),
  };
}
