import { DEFAULT_BEARER_TOKEN } from '@meshgate/service-kit';
import { z } from 'zod';
import { CredentialPolicy, isOwnSetting } from '../upstream/credential-policy.js';
import type { ConfiguredService } from './schema.js';
import { optional, withDefault } from './setting.js';

/** Most registered services by default: a shared gateway's admin API is not a free-for-all store. */
export const DEFAULT_MAX_SERVICES = 200;

/** The settings of upstream credentials and of the registry's size (see docs/security.md, findings 2, 3 and 10). */
export const CREDENTIAL_SETTINGS = {
  MESHGATE_CREDENTIAL_ENV: optional(
    z.string(),
    '(none: registrations reference no variables)',
    "Environment variables a registration may name in `bearerEnv` / `valueEnv`, comma-separated; `PREFIX_*` allows a prefix. The gateway's own settings (`MCP_BEARER_TOKEN`, `MESHGATE_*`, …) never",
  ),
  MESHGATE_SECRET_KEY: optional(
    z.string(),
    '(none: literal secrets in registrations are refused)',
    'AES-256-GCM key (32 bytes, base64 or 64 hex digits) that encrypts literal secrets of registrations in the database',
  ),
  MESHGATE_MAX_SERVICES: withDefault(z.coerce.number().int().min(1), DEFAULT_MAX_SERVICES, 'Services that may be registered at once; more get 409'),
};

type CredentialValues = {
  MESHGATE_CREDENTIAL_ENV?: string | undefined;
  MESHGATE_SECRET_KEY?: string | undefined;
  MESHGATE_MAX_SERVICES: number;
};

export interface CredentialConfig {
  policy: CredentialPolicy;
  /** The key that seals literal secrets in the store, if set. */
  secretKey: Buffer | undefined;
  maxServices: number;
  /** Whether registered services may be sent the gateway's upstream token. */
  gatewayTokenForRegistered: boolean;
  /** What the start-up log warns about: a client token sent upstream. */
  warnings: string[];
}

/** The secret key as 32 bytes, from base64 or hex; anything else is an error naming the variable. */
export function parseSecretKey(text: string): { ok: true; value: Buffer } | { ok: false; message: string } {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32)
    return { ok: false, message: 'env.MESHGATE_SECRET_KEY: must be 32 bytes, as base64 (44 characters) or 64 hex digits; e.g. `openssl rand -base64 32`' };
  return { ok: true, value: key };
}

/**
 * The credential policy and what to warn about: configured services' credentials are
 * checked (reserved headers, invalid values, references to the gateway's own settings)
 * and any one that sends a token clients also present is named.
 */
export function resolveCredentials(
  values: CredentialValues,
  context: {
    ownSettings: ReadonlySet<string>;
    upstreamToken: string;
    clientTokens: readonly string[];
    services: readonly ConfiguredService[];
    fromFile: boolean;
    env: NodeJS.ProcessEnv;
  },
): { ok: true; value: CredentialConfig } | { ok: false; message: string } {
  let secretKey: Buffer | undefined;
  if (values.MESHGATE_SECRET_KEY !== undefined) {
    const parsed = parseSecretKey(values.MESHGATE_SECRET_KEY);
    if (!parsed.ok) return parsed;
    secretKey = parsed.value;
  }
  const allowedEnv = (values.MESHGATE_CREDENTIAL_ENV ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const own = allowedEnv.find((entry) => !entry.endsWith('*') && isOwnSetting(entry, context.ownSettings));
  if (own !== undefined)
    return { ok: false, message: `env.MESHGATE_CREDENTIAL_ENV: ${own} is one of the gateway's own settings and cannot be lent to registrations` };
  const gatewayTokenIsClientToken = context.clientTokens.includes(context.upstreamToken);
  // The seed's demo setup: one token, the documented default, shared by clients and services.
  const upstreamTokenIsPublic = context.upstreamToken === DEFAULT_BEARER_TOKEN;
  const policy = new CredentialPolicy({
    allowedEnv,
    ownSettings: context.ownSettings,
    gatewayTokenIsClientToken,
    upstreamTokenIsPublic,
    canSealSecrets: secretKey !== undefined,
    clientTokens: context.clientTokens,
    env: context.env,
  });
  const warnings: string[] = [];
  for (const service of context.services) {
    if (service.credential.type === 'gateway') {
      if (gatewayTokenIsClientToken) {
        warnings.push(
          `service "${service.name}" is sent the gateway's upstream token, which clients also present: the service could call the gateway with it (set MESHGATE_UPSTREAM_TOKEN, or give the service a token of its own)`,
        );
      }
      continue;
    }
    // The seed's two services read their own settings (SHOPPING_SERVICE_TOKEN, USER_SERVICE_TOKEN) by design.
    const check = context.fromFile
      ? policy.checkConfigured(service.credential)
      : { ok: true as const, warnings: policy.sharedWithClients(service.credential, 'config') };
    if (!check.ok) return { ok: false, message: `service "${service.name}": ${check.message}` };
    for (const warning of check.warnings) warnings.push(`service "${service.name}": ${warning}`);
  }
  if (upstreamTokenIsPublic && gatewayTokenIsClientToken) {
    warnings.push(
      "the gateway runs on the public default token (the documented MCP_BEARER_TOKEN default): it is what clients present and what services are sent, registered ones included, as in the seed's setup; set MCP_BEARER_TOKEN (or MESHGATE_TOKENS and MESHGATE_UPSTREAM_TOKEN) to secrets of your own before exposing the gateway",
    );
  }
  return {
    ok: true,
    value: {
      policy,
      secretKey,
      maxServices: values.MESHGATE_MAX_SERVICES,
      gatewayTokenForRegistered: !gatewayTokenIsClientToken || upstreamTokenIsPublic,
      warnings,
    },
  };
}
