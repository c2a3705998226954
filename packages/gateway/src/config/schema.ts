import type { Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SERVICE_NAME_PATTERN } from '../model/naming.js';
import type { CredentialSpec } from '../model/service.js';
import { tokenInput } from './auth.js';
import { httpUrl } from './values.js';

// The environment's schema lives in env.ts; re-exported so callers keep one import for config shapes.
export { ENV_SETTINGS, ENV_VARS, type EnvConfig, envSchema } from './env.js';

const serviceName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, 'service names are lowercase letters, digits and dashes, starting with a letter or digit, at most 63 characters');

/** How a credential is written in the config file or a registration body. */
export const credentialInput = z.union([
  z.strictObject({ bearer: z.string().min(1) }),
  z.strictObject({ bearerEnv: z.string().min(1) }),
  z.strictObject({ header: z.string().regex(/^[A-Za-z0-9-]+$/), value: z.string().min(1) }),
  z.strictObject({ header: z.string().regex(/^[A-Za-z0-9-]+$/), valueEnv: z.string().min(1) }),
  z.strictObject({ none: z.literal(true) }),
  z.strictObject({ gateway: z.literal(true) }),
]);
export type CredentialInput = z.infer<typeof credentialInput>;

/** The stored form of a credential input. */
export function toCredentialSpec(input: CredentialInput): CredentialSpec {
  if ('bearer' in input) return { type: 'bearer', token: input.bearer };
  if ('bearerEnv' in input) return { type: 'bearer', tokenEnv: input.bearerEnv };
  if ('value' in input) return { type: 'header', header: input.header, value: input.value };
  if ('valueEnv' in input) return { type: 'header', header: input.header, valueEnv: input.valueEnv };
  if ('gateway' in input) return { type: 'gateway' };
  return { type: 'none' };
}

/** A service's `transport` setting (model/service.ts). */
export const transportInput = z.enum(['auto', 'streamable-http', 'sse']);

const fallbackTool = z.looseObject({ name: z.string().min(1), inputSchema: z.looseObject({ type: z.literal('object') }) });

/** The JSON file named by MESHGATE_CONFIG: services and client tokens. */
export const configFileSchema = z.strictObject({
  services: z
    .array(
      z.strictObject({
        name: serviceName,
        url: httpUrl,
        credential: credentialInput.optional(),
        /** How to speak to the URL; `auto` (the default) detects a legacy HTTP+SSE server. */
        transport: transportInput.optional(),
        /** Tools to list while the service has never been reached. */
        fallbackTools: z.array(fallbackTool).optional(),
      }),
    )
    .optional(),
  /** Client tokens; see config/auth.ts. */
  tokens: z.array(tokenInput).optional(),
});
export type ConfigFile = z.infer<typeof configFileSchema>;

/** A configured service, resolved. */
export interface ConfiguredService {
  name: string;
  url: string;
  credential: CredentialSpec;
  transport?: 'auto' | 'streamable-http' | 'sse';
  fallbackTools?: Tool[];
}
