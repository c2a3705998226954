import { type AuthVariables, DEFAULT_MAX_JSON_DEPTH, exceedsJsonDepth, readBodyLimited } from '@meshgate/service-kit';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GatewayIdentity, Role } from '../auth/tokens.js';
import {
  type CredentialInput,
  commandFields,
  credentialInput,
  surfaceFields,
  toCommandSpec,
  toCredentialSpec,
  toSurfaceSpec,
  transportInput,
} from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { SERVICE_NAME_PATTERN } from '../model/naming.js';
import { type CredentialSpec, redactUrl, type ServiceRecord } from '../model/service.js';
import type { PendingAuditEntry } from '../observability/audit.js';
import type { ManagedService, Registry } from '../registry/registry.js';
import type { CredentialPolicy } from '../upstream/credential-policy.js';
import { redactCredential } from '../upstream/credentials.js';
import { clientServiceView, seesEverything, serviceView } from './views.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };

const MAX_ADMIN_BODY = 64 * 1024;

const serviceName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, 'must be lowercase letters, digits and dashes (start with a letter or digit, at most 63 characters)');
const serviceUrl = z.string().min(1, 'is required').max(2048, 'is longer than 2048 characters');

/** A registration names an MCP URL (its credential, how to speak to it), or a command to run (stdio; off unless enabled). */
const registration = z
  .strictObject({
    name: serviceName,
    url: serviceUrl.optional(),
    credential: credentialInput.optional(),
    /** How to speak to the URL; `auto` (the default) detects a legacy HTTP+SSE server. */
    transport: transportInput.optional(),
    ...commandFields,
    command: commandFields.command.optional(),
    /** Overrides, pinning and hygiene of its tools (docs/tool-surfaces.md). */
    ...surfaceFields,
  })
  .refine((body) => (body.url === undefined) !== (body.command === undefined), 'give either "url" or "command"')
  .refine((body) => body.command === undefined || body.credential === undefined, '"credential" is for URL services; a command gets its secrets through "env"')
  .refine((body) => body.command === undefined || body.transport === undefined, '"transport" is for URL services')
  .refine(
    (body) => body.url === undefined || Object.keys(body).every((key) => !COMMAND_ONLY.has(key)),
    '"args", "env", "cwd" and "stdio" are for command services',
  );
const COMMAND_ONLY = new Set(['args', 'env', 'cwd', 'stdio']);

const update = z
  .strictObject({ url: serviceUrl.optional(), credential: credentialInput.optional(), transport: transportInput.optional(), ...surfaceFields })
  .refine(
    (body) => Object.values(body).some((value) => value !== undefined),
    'give "url", "credential", "transport", "overrides", "pin", "hygiene" or several',
  );

/** Approving held tool changes: optionally the digest of the definition the admin looked at. */
const approval = z.strictObject({
  digest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, 'must be a digest as /services shows it')
    .optional(),
});

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

/**
 * The MCP endpoint URL of a registration: the seed's form is a base URL (`/mcp` is appended);
 * a URL with a path is taken as the full endpoint. Only http(s), never with user:password.
 */
export function endpointUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayError('invalid_url', `"url" is not a valid URL: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GatewayError('invalid_url', `"url" must use http or https, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new GatewayError('invalid_url', '"url" must not contain user:password; pass a credential instead');
  }
  url.hash = '';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/mcp';
  return url.toString();
}

/** Refuses callers without `role` with 403. */
export function requireRole(role: Role): MiddlewareHandler<Env> {
  return async function requireRoleMiddleware(c, next) {
    if (!c.get('identity').roles.has(role)) {
      throw new GatewayError('forbidden', `Forbidden: this needs a token with the ${role} role`);
    }
    await next();
  };
}

/** The body as JSON; an empty one is refused, or with `orEmpty` taken as that value. */
export async function readJson(request: Request, orEmpty?: unknown): Promise<unknown> {
  const body = await readBodyLimited(request, MAX_ADMIN_BODY);
  if (!body.ok) throw new GatewayError('invalid_body', body.message);
  if (body.text.trim() === '' && orEmpty !== undefined) return orEmpty;
  if (body.text.trim() === '') throw new GatewayError('invalid_body', 'The body is empty; send JSON like {"name":"my-service","url":"http://host:3000"}');
  if (exceedsJsonDepth(body.text, DEFAULT_MAX_JSON_DEPTH))
    throw new GatewayError('invalid_body', `The body nests deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(body.text);
  } catch {
    throw new GatewayError('invalid_body', 'The body is not valid JSON');
  }
}

export interface AdminRouteOptions {
  /** Refuses a service URL the gateway must not call (throws `invalid_url`). */
  checkUrl?: (url: string) => Promise<void>;
  /** Whether a registration may name a command (MESHGATE_ALLOW_STDIO_REGISTRATION); off unless set. */
  allowStdioRegistration?: boolean;
  /** Hears every change made through these routes, done or failed (the audit log). */
  audit?: (entry: PendingAuditEntry) => void;
  /** What a registration's credential may be (upstream/credential-policy.ts); anything goes without it. */
  credentials?: CredentialPolicy;
  /** Where a registration's credential warnings go. */
  logger?: Logger;
}

/** A service record as the audit log keeps it: no secrets (a command's env values are never kept, only their names). */
function auditView(record: ServiceRecord | undefined) {
  if (record === undefined) return null;
  const where =
    record.command === undefined
      ? { url: redactUrl(record.url), ...(record.transport === undefined ? {} : { transport: record.transport }) }
      : { command: { command: record.command.command, args: record.command.args, envNames: Object.keys(record.command.env) } };
  return { name: record.name, ...where, source: record.source, credential: redactCredential(record.credential) };
}

/** What an audited admin change is: its kind, who made it, and what it changes (a service, or a target such as a virtual server). */
export interface AdminChange {
  kind: PendingAuditEntry['kind'];
  identity: GatewayIdentity;
  service: string | null;
  target: string | null;
}

/**
 * Runs one admin change and tells the audit log who made it, its outcome, and what it
 * changed before and after (`snapshot`, read before and after the change; never secrets).
 */
export async function auditedChange<T>(
  audit: ((entry: PendingAuditEntry) => void) | undefined,
  what: AdminChange,
  snapshot: () => unknown,
  change: () => Promise<T>,
  /** The entry's `detail` in place of `{before, after}` (an approval records what it approved). */
  detail?: (result: T | undefined) => Record<string, unknown>,
): Promise<T> {
  const before = snapshot();
  const started = performance.now();
  const record = (outcome: 'ok' | 'error', code: string | null, result?: T) =>
    audit?.({
      at: new Date().toISOString(),
      kind: what.kind,
      identity: what.identity.name,
      service: what.service,
      target: what.target,
      outcome,
      code,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      requestId: null,
      detail: detail === undefined ? { before, after: snapshot() } : detail(result),
    });
  try {
    const result = await change();
    record('ok', null, result);
    return result;
  } catch (error) {
    record('error', error instanceof GatewayError ? error.code : 'internal');
    throw error;
  }
}

/** `/register` and `/services`: the registry over HTTP. Auth runs before these routes. */
export function adminRoutes(registry: Registry, options: AdminRouteOptions = {}): Hono<Env> {
  const app = new Hono<Env>();
  // The SSRF guard: where a registration may make the gateway connect.
  const target = async (url: string): Promise<string> => {
    const endpoint = endpointUrl(url);
    await options.checkUrl?.(endpoint);
    return endpoint;
  };
  /** Runs one change and tells the audit log who made it, its outcome and the service before and after. */
  const audited = <T>(
    kind: 'service.register' | 'service.update' | 'service.deregister' | 'tool.approve',
    identity: GatewayIdentity,
    name: string,
    change: () => Promise<T>,
    target: string | null = null,
    detail?: (result: T | undefined) => Record<string, unknown>,
  ) => auditedChange(options.audit, { kind, identity, service: name, target }, () => auditView(registry.get(name)?.record), change, detail);

  // A credential is checked before anything connects: a refused one never leaves the gateway.
  const credentialOf = (service: string, input: CredentialInput): CredentialSpec => {
    const spec = toCredentialSpec(input);
    const check = options.credentials?.checkRegistration(spec) ?? { ok: true, warnings: [] };
    if (!check.ok) throw new GatewayError('invalid_credential', `Invalid credential for service "${service}": ${check.message}`, { service });
    for (const warning of check.warnings) options.logger?.warn({ service }, `service "${service}": ${warning}`);
    return spec;
  };

  app.post('/register', requireRole('admin'), async (c) => {
    const parsed = registration.safeParse(await readJson(c.req.raw));
    if (!parsed.success) throw new GatewayError('invalid_body', `Invalid registration: ${describeIssues(parsed.error)}`);
    const { name, url, credential, transport, command } = parsed.data;
    const surface = toSurfaceSpec(parsed.data);
    const surfaced = surface === undefined ? {} : { surface };
    if (command !== undefined) {
      // Running a program on the gateway's host is more than calling a URL: off unless the operator says so.
      if (options.allowStdioRegistration !== true) {
        throw new GatewayError(
          'stdio_registration_disabled',
          "Registering a command is off: it would run a program on the gateway's host. Add it to the MESHGATE_CONFIG file, or set MESHGATE_ALLOW_STDIO_REGISTRATION=true to let admin tokens register commands",
          { service: name },
        );
      }
      const service = await audited('service.register', c.get('identity'), name, async () =>
        registry.register({ name, command: toCommandSpec({ ...parsed.data, command }), credential: { type: 'none' }, ...surfaced }),
      );
      return c.json(serviceView(service, registry), 201);
    }
    const service = await audited('service.register', c.get('identity'), name, async () =>
      registry.register({
        name,
        url: await target(url ?? ''),
        // No credential unless one is given: a secret token of the gateway's is never lent by default
        // (docs/security.md, finding 3); the seed's public default token is (CredentialPolicy.registrationDefault).
        credential: credential === undefined ? (options.credentials?.registrationDefault() ?? { type: 'none' }) : credentialOf(name, credential),
        ...(transport === undefined ? {} : { transport }),
        ...surfaced,
      }),
    );
    return c.json(serviceView(service, registry), 201);
  });

  // An admin sees everything; any other token only what it may use, as tools/list shows it (docs/security.md, finding 4).
  const view = (service: ManagedService, identity: GatewayIdentity) =>
    seesEverything(identity) ? serviceView(service, registry) : clientServiceView(service, registry.catalog, identity);
  const list = (c: Context<Env>) => c.json({ services: registry.list().flatMap((service) => view(service, c.get('identity')) ?? []) });
  app.post('/services', list);
  app.get('/services', list);

  app.get('/services/:name', (c) => {
    const service = registry.get(c.req.param('name'));
    const shown = service === undefined ? undefined : view(service, c.get('identity'));
    if (shown === undefined) throw new GatewayError('unknown_service', `No service named "${c.req.param('name')}"`);
    return c.json(shown);
  });

  app.put('/services/:name', requireRole('admin'), async (c) => {
    const parsed = update.safeParse(await readJson(c.req.raw));
    if (!parsed.success) throw new GatewayError('invalid_body', `Invalid update: ${describeIssues(parsed.error)}`);
    const { url, credential, transport } = parsed.data;
    const name = c.req.param('name');
    // The surface fields given replace the service's one by one; the others stay.
    const given = toSurfaceSpec(parsed.data);
    const surface = given === undefined ? {} : { surface: { ...registry.get(name)?.record.surface, ...given } };
    const service = await audited('service.update', c.get('identity'), name, async () =>
      registry.update(name, {
        ...(url === undefined ? {} : { url: await target(url) }),
        ...(credential === undefined ? {} : { credential: credentialOf(name, credential) }),
        ...(transport === undefined ? {} : { transport }),
        ...surface,
      }),
    );
    return c.json(serviceView(service, registry));
  });

  // Approving held changes of pinned tools (docs/tool-surfaces.md, "Pinned definitions"): admins only, audited.
  const approve = async (c: Context<Env>, tool: string | undefined) => {
    const parsed = approval.safeParse(await readJson(c.req.raw, {}));
    if (!parsed.success) throw new GatewayError('invalid_body', `Invalid approval: ${describeIssues(parsed.error)}`);
    const name = c.req.param('name') ?? '';
    // A tool is named as /services shows it: by its upstream name, or the name clients see.
    const upstream =
      tool === undefined ? undefined : (registry.catalog.tools.forService(name).find((entry) => entry.exposedName === tool)?.upstreamName ?? tool);
    const approved = await audited(
      'tool.approve',
      c.get('identity'),
      name,
      () => registry.approve(name, upstream, c.get('identity').name, parsed.data.digest),
      upstream ?? null,
      (result) => ({ approved: result ?? [], ...(parsed.data.digest === undefined ? {} : { digest: parsed.data.digest }) }),
    );
    return c.json({ approved });
  };
  app.post('/services/:name/tools/:tool/approve', requireRole('admin'), (c) => approve(c, c.req.param('tool')));
  app.post('/services/:name/approve-all', requireRole('admin'), (c) => approve(c, undefined));

  app.delete('/services/:name', requireRole('admin'), async (c) => {
    await audited('service.deregister', c.get('identity'), c.req.param('name'), () => registry.deregister(c.req.param('name')));
    return c.body(null, 204);
  });

  return app;
}
