import type { Logger } from 'pino';
import type { Listings } from '../model/catalog.js';
import type { CredentialSpec } from '../model/service.js';
import type { EnvAccess } from './credential-policy.js';
import { resolveCredential } from './credentials.js';
import type { UpstreamLimits } from './limits.js';
import { listAll } from './listings.js';
import { FederationLoopError } from './loop.js';
import { discoverHealthUrl } from './probe.js';
import { createStreamableHttpTransport } from './streamable-http.js';
import type { Dial, TransportEvents, TransportFactory, UpstreamHandshake, UpstreamTransport } from './transport.js';

/** What opening a session with one service needs. */
export interface SessionSpec {
  service: string;
  url: string;
  credential: CredentialSpec;
  /** The token a `gateway` credential stands for; undefined when this service may not be sent it. */
  gatewayToken: string | undefined;
  /** This gateway's instance id: a service that names it leads back here (loop.ts). */
  instanceId?: string | undefined;
  /** How `*Env` references are read (credential-policy.ts); the whole environment unless given. */
  env?: EnvAccess | undefined;
  limits: UpstreamLimits;
  logger: Logger;
  /** Streamable HTTP unless given: where another kind of upstream plugs in. */
  transportFactory?: TransportFactory | undefined;
  /** Checked connections (registered services: the SSRF guard at every connect). */
  dial?: Dial | undefined;
}

/** A session ready to serve: its transport, what the service said, and what it offers. */
export interface OpenedSession {
  transport: UpstreamTransport;
  handshake: UpstreamHandshake;
  listings: Listings;
  /** The service's `/health`, if it has one (probe.ts). */
  healthUrl: string | undefined;
}

/**
 * Opens one session: the credential resolved, a transport made and started, everything
 * listed and the health endpoint looked for. Either all of it works or the transport is
 * closed again and the reason thrown.
 */
export async function openSession(spec: SessionSpec, events: TransportEvents): Promise<OpenedSession> {
  const { service, url, limits, logger } = spec;
  const credential = resolveCredential(spec.credential, spec.gatewayToken, spec.env);
  if (!credential.ok) throw new Error(credential.message);
  const create = spec.transportFactory ?? createStreamableHttpTransport;
  const transport = create(
    { service, url, headers: credential.headers, limits, dial: spec.dial, log: (message, details) => logger.debug(details, message) },
    events,
  );
  try {
    const handshake = await transport.start();
    if (spec.instanceId !== undefined && handshake.instances?.includes(spec.instanceId)) {
      throw new FederationLoopError(
        `service "${service}" is this gateway, or federates it (its initialize names this gateway's instance): registering it would make a loop`,
      );
    }
    // Only an HTTP service can have a /health beside its endpoint; a command service is probed with ping.
    const health = /^https?:/.test(url) ? discoverHealthUrl(url, limits.connectMs, spec.dial?.dispatcher) : Promise.resolve(undefined);
    const [listings, healthUrl] = await Promise.all([listSession(transport, handshake, spec), health]);
    return { transport, handshake, listings, healthUrl };
  } catch (error) {
    await transport.close();
    throw error;
  }
}

/** Lists everything the session's service offers, as its capabilities say. */
export function listSession(
  transport: UpstreamTransport,
  handshake: Pick<UpstreamHandshake, 'capabilities'>,
  spec: Pick<SessionSpec, 'service' | 'limits' | 'logger'>,
): Promise<Listings> {
  const { connectMs, maxListItems, maxDescriptionChars } = spec.limits;
  const request = (method: string, params: Record<string, unknown> | undefined, timeoutMs: number) => transport.request(method, params, { timeoutMs });
  return listAll(request, handshake.capabilities, spec.service, { timeoutMs: connectMs, maxItems: maxListItems, maxDescriptionChars }, spec.logger);
}
