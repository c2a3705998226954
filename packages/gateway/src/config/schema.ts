import type { Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SERVICE_NAME_PATTERN } from '../model/naming.js';
import { toolOverridesSchema } from '../model/overrides.js';
import { PIN_MODES, type PinMode } from '../model/pins.js';
import type { CommandSpec, CredentialSpec, ToolSurfaceSpec } from '../model/service.js';
import { VIRTUAL_SERVER_MODES, type VirtualServerMode } from '../model/virtual-server.js';
import { tokenInput } from './auth.js';
import { httpUrl, selectorInput } from './values.js';

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

/** The fields of a command service (config file and registration body); `toCommandSpec` gives the stored form. */
export const commandFields = {
  command: z.string().min(1, 'is empty').max(4096),
  args: z.array(z.string().max(4096)).max(256).optional(),
  /** Variables the process gets besides PATH and HOME; nothing else of the gateway's environment reaches it. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), z.string().max(65_536)).optional(),
  cwd: z.string().min(1).max(4096).optional(),
  stdio: z.enum(['shared', 'per-session']).optional(),
};
export type CommandInput = {
  command: string;
  args?: string[] | undefined;
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
  stdio?: CommandSpec['stdio'] | undefined;
};

/** The stored form of a command service's fields: defaults filled in (no args, no env, one shared process). */
export function toCommandSpec(input: CommandInput): CommandSpec {
  return {
    command: input.command,
    args: input.args ?? [],
    env: { ...input.env },
    ...(input.cwd === undefined ? {} : { cwd: input.cwd }),
    stdio: input.stdio ?? 'shared',
  };
}

const fallbackTools = z.array(fallbackTool).optional();

/**
 * How a service's tools are surfaced, in the config file and a registration body (docs/tool-surfaces.md):
 * overrides by upstream tool name, pinning, hygiene. Each left out takes the gateway's setting.
 */
export const surfaceFields = {
  overrides: toolOverridesSchema.optional(),
  pin: z.enum(PIN_MODES as [PinMode, ...PinMode[]]).optional(),
  hygiene: z.strictObject({ strip: z.boolean().optional(), flag: z.boolean().optional() }).optional(),
};
export type SurfaceInput = {
  overrides?: ToolSurfaceSpec['overrides'] | undefined;
  pin?: PinMode | undefined;
  hygiene?: { strip?: boolean | undefined; flag?: boolean | undefined } | undefined;
};

/** The stored form of the surface fields, or undefined when none is given. */
export function toSurfaceSpec(input: SurfaceInput): ToolSurfaceSpec | undefined {
  const hygiene = input.hygiene === undefined ? undefined : Object.fromEntries(Object.entries(input.hygiene).filter(([, value]) => value !== undefined));
  const spec: ToolSurfaceSpec = {
    ...(input.overrides === undefined ? {} : { overrides: input.overrides as NonNullable<ToolSurfaceSpec['overrides']> }),
    ...(input.pin === undefined ? {} : { pin: input.pin }),
    ...(hygiene === undefined ? {} : { hygiene }),
  };
  return Object.keys(spec).length === 0 ? undefined : spec;
}

const urlService = z.strictObject({
  name: serviceName,
  url: httpUrl,
  credential: credentialInput.optional(),
  /** How to speak to the URL; `auto` (the default) detects a legacy HTTP+SSE server. */
  transport: transportInput.optional(),
  /** Tools to list while the service has never been reached. */
  fallbackTools,
  ...surfaceFields,
});
const commandService = z.strictObject({ name: serviceName, ...commandFields, fallbackTools, ...surfaceFields });

/**
 * One service entry: a command service when it has `command`, else a URL service. Chosen
 * by hand rather than with `z.union`, whose failure says only "Invalid input": this way a
 * mistake is reported against the one shape meant (`config.services.0.stdio: …`).
 */
const serviceEntry = z.unknown().transform((value, ctx): z.infer<typeof urlService> | z.infer<typeof commandService> => {
  const schema = typeof value === 'object' && value !== null && 'command' in value ? commandService : urlService;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

/** Most selectors in one list of a virtual server. */
export const MAX_SELECTORS = 500;
const selectors = z.array(selectorInput).max(MAX_SELECTORS, `has more than ${MAX_SELECTORS} selectors`);

/** What a virtual server serves and how (all but its name): the config file's entries and the admin API's bodies. */
export const virtualServerFields = {
  /** Selectors of the tools it serves: names, `<service>__*`, globs (`*`, `?`), `@annotation` (auth/allow-list.ts). */
  tools: selectors,
  prompts: selectors.optional(),
  resources: selectors.optional(),
  mode: z.enum(VIRTUAL_SERVER_MODES as [VirtualServerMode, ...VirtualServerMode[]]).optional(),
  /** Overrides of its tools on its endpoint only, keyed by their names on `/mcp`. */
  overrides: toolOverridesSchema.optional(),
  description: z.string().max(2000, 'is longer than 2000 characters').optional(),
};
const virtualServerName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, 'must be lowercase letters, digits and dashes (start with a letter or digit, at most 63 characters): it is a path segment');
export const virtualServerInput = z.strictObject({ name: virtualServerName, ...virtualServerFields });

/** The JSON file named by MESHGATE_CONFIG: services (an MCP URL, or a command to run), virtual servers and client tokens. */
export const configFileSchema = z.strictObject({
  services: z.array(serviceEntry).optional(),
  /** Named parts of the catalog, each at `/servers/{name}/mcp` (docs/tool-surfaces.md). */
  virtualServers: z.array(virtualServerInput).optional(),
  /** Client tokens; see config/auth.ts. */
  tokens: z.array(tokenInput).optional(),
});
export type ConfigFile = z.infer<typeof configFileSchema>;

/** A configured service, resolved: an MCP URL with its credential (and how to speak to it), or a command. */
export type ConfiguredService = { name: string; credential: CredentialSpec; fallbackTools?: Tool[]; surface?: ToolSurfaceSpec } & (
  | { url: string; transport?: 'auto' | 'streamable-http' | 'sse'; command?: never }
  | { command: CommandSpec; url?: never; transport?: never }
);
