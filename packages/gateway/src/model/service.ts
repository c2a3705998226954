/** What the gateway knows of one federated service, shared by the registry, the upstream side and configuration. */
import type { Tool } from '@modelcontextprotocol/server';
import type { Listings } from './catalog.js';

/**
 * How the gateway authenticates to one service. Secrets can be given literally or as
 * the name of an environment variable holding them (`*Env`), so a stored record need
 * not contain the secret itself. The client's own token never travels upstream.
 */
export type CredentialSpec =
  | { type: 'none' }
  /** The gateway's own upstream token (MESHGATE_UPSTREAM_TOKEN, else MCP_BEARER_TOKEN). */
  | { type: 'gateway' }
  | { type: 'bearer'; token?: string; tokenEnv?: string }
  | { type: 'header'; header: string; value?: string; valueEnv?: string };

/** A service the gateway federates. */
export interface ServiceRecord {
  /** Matches SERVICE_NAME_PATTERN; the namespace prefix of its tools. */
  name: string;
  /** The service's MCP endpoint URL. */
  url: string;
  /** `config` services come from configuration; `registered` ones from `POST /register`. */
  source: 'config' | 'registered';
  credential: CredentialSpec;
  /** Tools to list while the service has never been reached (from configuration). */
  fallbackTools?: Tool[];
  createdAt: string;
  updatedAt: string;
}

/** The last listings seen from a service, kept as its fallback definitions. */
export interface CatalogSnapshot extends Listings {
  service: string;
  seenAt: string;
}

/** Query parameters whose values look like secrets; their values are shown as `[redacted]`. */
const SECRET_PARAM = /(key|token|secret|password|passwd|pwd|auth|credential|signature|sig|session|code)/i;

/** A registered URL safe to show and log: the values of secret-looking query parameters replaced. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.search === '') return raw;
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAM.test(name)) url.searchParams.set(name, '[redacted]');
  return url.toString().replace(/%5Bredacted%5D/g, '[redacted]');
}
