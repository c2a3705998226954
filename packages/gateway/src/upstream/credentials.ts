import type { CredentialSpec } from '../model/service.js';
import { type EnvAccess, invalidValue, isReservedHeader } from './credential-policy.js';

export type ResolvedCredential = { ok: true; headers: Record<string, string> } | { ok: false; message: string };

const processEnv: EnvAccess = (name) => ({ ok: true, value: process.env[name] });

/**
 * Turns a credential spec into request headers, reading `*Env` references through `env`
 * (which refuses what a service may not read: credential-policy.ts). Every failure names
 * the credential (its variable or header), never its value. `gatewayToken` is undefined
 * when this service may not be sent the gateway's upstream token.
 */
export function resolveCredential(spec: CredentialSpec, gatewayToken: string | undefined, env: EnvAccess = processEnv): ResolvedCredential {
  switch (spec.type) {
    case 'none':
      return { ok: true, headers: {} };
    case 'gateway':
      if (gatewayToken === undefined) {
        return {
          ok: false,
          message:
            "the gateway's upstream token is also a client token and is not sent to registered services; set MESHGATE_UPSTREAM_TOKEN or give the service its own credential",
        };
      }
      return { ok: true, headers: { authorization: `Bearer ${gatewayToken}` } };
    case 'bearer': {
      const read = readSecret(spec.token, spec.tokenEnv, 'bearer credential', env);
      if (!read.ok) return read;
      const invalid = invalidValue(read.value, read.what, true);
      return invalid === undefined ? { ok: true, headers: { authorization: `Bearer ${read.value}` } } : { ok: false, message: invalid };
    }
    case 'header': {
      if (isReservedHeader(spec.header)) return { ok: false, message: `header ${spec.header} cannot carry a credential` };
      const read = readSecret(spec.value, spec.valueEnv, `header credential ${spec.header}`, env);
      if (!read.ok) return read;
      const invalid = invalidValue(read.value, read.what, false);
      return invalid === undefined ? { ok: true, headers: { [spec.header.toLowerCase()]: read.value } } : { ok: false, message: invalid };
    }
  }
}

function readSecret(
  literal: string | undefined,
  variable: string | undefined,
  what: string,
  env: EnvAccess,
): { ok: true; value: string; what: string } | { ok: false; message: string } {
  if (literal !== undefined && literal !== '') return { ok: true, value: literal, what };
  if (variable === undefined) return { ok: false, message: `${what} is empty` };
  const read = env(variable);
  if (!read.ok) return { ok: false, message: `${what}: ${read.message}` };
  if (read.value === undefined || read.value === '') return { ok: false, message: `${what} is empty (environment variable ${variable} is not set)` };
  return { ok: true, value: read.value, what: `${what} (environment variable ${variable})` };
}

/** A credential spec safe to show: references kept, literal secrets replaced. */
export function redactCredential(spec: CredentialSpec): Record<string, string> {
  switch (spec.type) {
    case 'none':
    case 'gateway':
      return { type: spec.type };
    case 'bearer':
      return spec.tokenEnv !== undefined ? { type: 'bearer', tokenEnv: spec.tokenEnv } : { type: 'bearer', token: '[redacted]' };
    case 'header':
      return spec.valueEnv !== undefined
        ? { type: 'header', header: spec.header, valueEnv: spec.valueEnv }
        : { type: 'header', header: spec.header, value: '[redacted]' };
  }
}
