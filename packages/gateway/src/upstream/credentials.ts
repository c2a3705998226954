import type { CredentialSpec } from '../model/service.js';

export type ResolvedCredential = { ok: true; headers: Record<string, string> } | { ok: false; message: string };

/** Turns a credential spec into request headers, reading `*Env` references from the environment. */
export function resolveCredential(spec: CredentialSpec, gatewayToken: string, env: NodeJS.ProcessEnv = process.env): ResolvedCredential {
  switch (spec.type) {
    case 'none':
      return { ok: true, headers: {} };
    case 'gateway':
      return { ok: true, headers: { authorization: `Bearer ${gatewayToken}` } };
    case 'bearer': {
      const token = spec.token ?? (spec.tokenEnv === undefined ? undefined : env[spec.tokenEnv]);
      if (token === undefined || token === '') {
        return { ok: false, message: `bearer credential is empty (environment variable ${spec.tokenEnv ?? '?'} is not set)` };
      }
      return { ok: true, headers: { authorization: `Bearer ${token}` } };
    }
    case 'header': {
      const value = spec.value ?? (spec.valueEnv === undefined ? undefined : env[spec.valueEnv]);
      if (value === undefined || value === '') {
        return { ok: false, message: `header credential ${spec.header} is empty (environment variable ${spec.valueEnv ?? '?'} is not set)` };
      }
      return { ok: true, headers: { [spec.header.toLowerCase()]: value } };
    }
  }
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
