/**
 * The perimeter's settings, resolved from the environment. Defaults keep the seed working
 * with zero configuration (curl on localhost, compose service names, services on
 * localhost or a compose network) and are explained in docs/decisions/0002-perimeter.md.
 */
import { LOOPBACK_HOSTS, type OriginPolicy, splitHost } from './origin.js';

/** Failed authentications a client address may make per minute (MESHGATE_AUTH_FAILURES_PER_MINUTE). */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 60;

export interface SecurityConfig {
  origin: OriginPolicy;
  /** Registrations may point at loopback and private networks (link-local and metadata never). */
  allowPrivateNetworks: boolean;
  /** Requests per minute per token; 0 turns rate limiting off. */
  rateLimitPerMinute: number;
  /** Failed authentications per minute per client address; 0 turns the throttle off. */
  authFailuresPerMinute: number;
  /** Socket limits for the HTTP server. */
  server: { maxConnections: number; headersTimeoutMs: number; requestTimeoutMs: number };
}

/** The environment variables read here, as parsed by the config schema. */
export interface SecurityEnv {
  HOST: string;
  MESHGATE_ALLOWED_ORIGINS?: string | undefined;
  MESHGATE_ALLOWED_HOSTS?: string | undefined;
  MESHGATE_ALLOW_PRIVATE_NETWORKS: boolean;
  MESHGATE_RATE_LIMIT_PER_MINUTE: number;
  MESHGATE_AUTH_FAILURES_PER_MINUTE: number;
  MESHGATE_MAX_CONNECTIONS: number;
  MESHGATE_HEADERS_TIMEOUT_MS: number;
  MESHGATE_REQUEST_TIMEOUT_MS: number;
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** True for a bind address only this machine can reach. */
export function isLoopbackBind(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\./.test(name);
}

/** `*`, or a comma-separated list of origins such as `https://app.example.com`. Unset: loopback pages only. */
export function parseAllowedOrigins(raw: string | undefined): OriginPolicy['origins'] {
  if (raw === undefined || raw.trim() === '') return 'loopback';
  const items = list(raw);
  if (items.includes('*')) return '*';
  return items.map((item) => {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item.replace(/\/$/, '').toLowerCase()) {
      throw new Error(
        `invalid configuration: env.MESHGATE_ALLOWED_ORIGINS: ${JSON.stringify(item)} is not an origin like https://app.example.com (scheme, host, optional port; no path)`,
      );
    }
    return url.origin;
  });
}

/**
 * `*`, or a comma-separated list of host names, each optionally with `:port`. Unset: the
 * loopback names when bound to loopback (nobody else can connect, so any other Host is a
 * rebinding attempt), and any Host otherwise (compose service names, load balancers and
 * public names cannot be guessed; the Origin check still stops browsers).
 */
export function parseAllowedHosts(raw: string | undefined, bindHost: string): OriginPolicy['hosts'] {
  if (raw === undefined || raw.trim() === '') return isLoopbackBind(bindHost) ? LOOPBACK_HOSTS : '*';
  const items = list(raw);
  if (items.includes('*')) return '*';
  for (const item of items) {
    const { name, port } = splitHost(item);
    if (name === '' || /[/@\s]/.test(name) || (port !== undefined && Number(port) > 65_535)) {
      throw new Error(
        `invalid configuration: env.MESHGATE_ALLOWED_HOSTS: ${JSON.stringify(item)} is not a host name like mcp.example.com or mcp.example.com:3001`,
      );
    }
  }
  return items.map((item) => item.toLowerCase());
}

/** Resolves the perimeter settings. Throws with the variable's name on a malformed value. */
export function securityConfig(env: SecurityEnv): SecurityConfig {
  return {
    origin: { origins: parseAllowedOrigins(env.MESHGATE_ALLOWED_ORIGINS), hosts: parseAllowedHosts(env.MESHGATE_ALLOWED_HOSTS, env.HOST) },
    allowPrivateNetworks: env.MESHGATE_ALLOW_PRIVATE_NETWORKS,
    rateLimitPerMinute: env.MESHGATE_RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: env.MESHGATE_AUTH_FAILURES_PER_MINUTE,
    server: {
      maxConnections: env.MESHGATE_MAX_CONNECTIONS,
      headersTimeoutMs: env.MESHGATE_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.MESHGATE_REQUEST_TIMEOUT_MS,
    },
  };
}
