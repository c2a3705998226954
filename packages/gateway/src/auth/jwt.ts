import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { AllowList } from './allow-list.js';
import { boundedJwksFetch, JWKS_TIMEOUT_MS } from './jwks-fetch.js';
import { type ScopeMap, scopesOfClaims } from './scopes.js';
import type { GatewayIdentity } from './tokens.js';

/** How JWT access tokens are checked. */
export interface JwtOptions {
  /** The authorization server's JWKS (RFC 7517) URL. */
  jwksUrl: string;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud`: this gateway's resource identifier (RFC 8707). */
  audience: string;
  scopes: ScopeMap;
  /** A claim holding the token's tool allow-list (array, or space-separated string). */
  toolsClaim?: string;
}

export type JwtResult =
  | { ok: true; identity: GatewayIdentity }
  /** `reason` is for logs; `serverFault` says the gateway, not the token, was at fault. */
  | { ok: false; reason: string; serverFault: boolean };

// Asymmetric algorithms only: a JWKS publishes public keys, and an HMAC "key" in one would
// let anyone who can read the JWKS sign tokens.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const CLOCK_TOLERANCE_SECONDS = 30;

/** Looks like a compact JWS (three base64url parts); anything else is not worth a signature check. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/**
 * Verifies JWT access tokens against a remote JWKS with `jose`: signature, issuer,
 * audience, expiry (required), subject (required). Keys are cached; an unknown `kid`
 * refetches the set at most once per cooldown, so random kids cannot flood the issuer.
 */
export class JwtVerifier {
  readonly #keys: JWTVerifyGetKey;

  constructor(
    private readonly options: JwtOptions,
    keys?: JWTVerifyGetKey,
  ) {
    this.#keys =
      keys ?? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS, cooldownDuration: 30_000, [customFetch]: boundedJwksFetch() });
  }

  async verify(token: string): Promise<JwtResult> {
    let claims: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, this.#keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      claims = verified.payload;
    } catch (error) {
      return { ok: false, reason: describe(error), serverFault: isServerFault(error) };
    }
    const tools = this.#tools(claims);
    if (tools === null) return { ok: false, reason: `claim "${this.options.toolsClaim}" is not a list of tool names`, serverFault: false };
    return { ok: true, identity: identityOf(String(claims['sub']), this.options.scopes.rolesOf(scopesOfClaims(claims)), tools) };
  }

  /** The allow-list entries of the token: undefined when it has none, null when malformed. */
  #tools(claims: Record<string, unknown>): string[] | undefined | null {
    if (this.options.toolsClaim === undefined) return undefined;
    const value = claims[this.options.toolsClaim];
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value.split(' ').filter((entry) => entry !== '');
    if (Array.isArray(value) && value.every((entry) => typeof entry === 'string')) return value as string[];
    return null;
  }
}

/**
 * A JWT caller's identity. Sessions are bound to the identity name, so the name carries a
 * fingerprint of the allow-list: a token of the same subject with other tools cannot use
 * a session whose server was built for the first token's tools. The subject is
 * percent-encoded, so it never holds the `#` that separates the fingerprint: a subject
 * `alice#<fingerprint>` without tools is not the same identity as `alice` with them.
 */
export function identityOf(subject: string, roles: GatewayIdentity['roles'], tools: string[] | undefined): GatewayIdentity {
  const name = `jwt:${encodeURIComponent(subject)}`;
  if (tools === undefined) return { name, roles };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([...tools].sort()))
    .digest('hex')
    .slice(0, 12);
  return { name: `${name}#${fingerprint}`, roles, allowList: new AllowList(tools) };
}

function isServerFault(error: unknown): boolean {
  return error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || (error instanceof Error && !(error instanceof errors.JOSEError));
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim "${error.claim}" is not acceptable (${error.reason})`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the JWKS matches the token';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return `the JWKS could not be fetched: ${error instanceof Error ? error.message : String(error)}`;
}
