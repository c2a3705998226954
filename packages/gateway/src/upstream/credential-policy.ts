/**
 * What a service's credential may be, decided once for configuration and registrations.
 * A registration body comes from the admin API, so it gets the tighter rules:
 *
 * - environment references (`bearerEnv`, `valueEnv`) only to variables the operator
 *   allowed (MESHGATE_CREDENTIAL_ENV), never to the gateway's own settings;
 * - no `gateway` credential while the gateway's upstream token is also a token clients
 *   present (it would hand an admin token to whatever the URL points at);
 * - literal secrets only when the store can seal them (MESHGATE_SECRET_KEY).
 *
 * For both: a header credential may not name a framing, routing, hop-by-hop or MCP
 * protocol header, and a value must be one line of visible ASCII: a multi-line PEM
 * would otherwise end up in an HTTP client's error message, value and all.
 */
import type { CredentialSpec } from '../model/service.js';

export type PolicyCheck = { ok: true; warnings: string[] } | { ok: false; message: string };
/** How a credential reads the environment: a value, or why it may not. */
export type EnvAccess = (name: string) => { ok: true; value: string | undefined } | { ok: false; message: string };

/** Headers a credential may never set: framing, routing and connection management, and what the MCP transport itself sends. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'accept',
  'accept-encoding',
  'last-event-id',
  'forwarded',
  'via',
]);
const RESERVED_PREFIXES = ['mcp-', 'proxy-', 'x-forwarded-', 'meshgate-', ':'];

/** A header value the gateway will send: visible ASCII, spaces only inside. */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
/** A bearer token: visible ASCII, no spaces (RFC 6750 is stricter still). */
const BEARER_VALUE = /^[\x21-\x7e]+$/;
const MAX_VALUE_CHARS = 8 * 1024;

/** Whether `header` is one a credential may not set. */
export function isReservedHeader(header: string): boolean {
  const name = header.toLowerCase();
  return RESERVED_HEADERS.has(name) || RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** Why `value` cannot be sent as the credential `what`, or undefined when it can. The value itself is never quoted. */
export function invalidValue(value: string, what: string, bearer: boolean): string | undefined {
  if (value.length > MAX_VALUE_CHARS) return `${what} is longer than ${MAX_VALUE_CHARS} characters`;
  if ((bearer ? BEARER_VALUE : HEADER_VALUE).test(value)) return undefined;
  if (/[\r\n]/.test(value)) return `${what} holds a line break (a multi-line value such as a PEM cannot be sent in a header)`;
  if (bearer && / /.test(value)) return `${what} holds a space`;
  return `${what} holds a character that is not allowed in an HTTP header (only visible ASCII)`;
}

export interface CredentialPolicyOptions {
  /** Variables registrations may reference: exact names, or prefixes ending in `*` (MESHGATE_CREDENTIAL_ENV). */
  allowedEnv: readonly string[];
  /** The gateway's own settings: never referenced by any credential given at runtime or in the config file. */
  ownSettings: ReadonlySet<string>;
  /** Whether the gateway's upstream token is also accepted from clients (then no registration may use it, unless it is public). */
  gatewayTokenIsClientToken: boolean;
  /**
   * Whether that token is the well-known default (`mcp-token-123`): the seed's demo setup,
   * where every client and service shares one token anybody can read in the docs. Lending
   * it gives a service nothing it could not have, so registrations get it by default there
   * and the seed's registration curl works as written.
   */
  upstreamTokenIsPublic?: boolean;
  /** Whether literal secrets can be kept out of the database file (a secret key is set). */
  canSealSecrets: boolean;
  /** Tokens the gateway accepts from clients, to warn when one is given to a service. */
  clientTokens: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** The gateway's own settings by name: declared ones, and everything under its prefix. */
export function isOwnSetting(name: string, declared: ReadonlySet<string>): boolean {
  return declared.has(name) || name.startsWith('MESHGATE_') || name === 'MCP_BEARER_TOKEN';
}

/** The rules above, for one gateway's settings: checks at registration and start-up, and environment access at connect time. */
export class CredentialPolicy {
  readonly #options: CredentialPolicyOptions;
  readonly #env: NodeJS.ProcessEnv;

  constructor(options: CredentialPolicyOptions) {
    this.#options = options;
    this.#env = options.env ?? process.env;
  }

  /** May a registration reference `name`? */
  #mayRegistrationRead(name: string): string | undefined {
    if (isOwnSetting(name, this.#options.ownSettings)) return `environment variable ${name} is one of the gateway's own settings and cannot be referenced`;
    const allowed = this.#options.allowedEnv.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name));
    return allowed ? undefined : `environment variable ${name} is not one registrations may reference (MESHGATE_CREDENTIAL_ENV)`;
  }

  /** How a service's credential reads the environment at connect time. */
  envFor(source: 'config' | 'registered'): EnvAccess {
    return (name) => {
      const refused = source === 'registered' ? this.#mayRegistrationRead(name) : undefined;
      return refused === undefined ? { ok: true, value: this.#env[name] } : { ok: false, message: refused };
    };
  }

  /**
   * The credential of a registration that gives none: nothing, but for the seed's demo
   * setup, where the upstream token is the public default and is lent (see upstreamTokenIsPublic).
   */
  registrationDefault(): CredentialSpec {
    return this.#options.upstreamTokenIsPublic === true ? { type: 'gateway' } : { type: 'none' };
  }

  /** Checks a credential from a registration body (POST /register, PUT /services/{name}). */
  checkRegistration(spec: CredentialSpec): PolicyCheck {
    const shape = checkShape(spec);
    if (shape !== undefined) return { ok: false, message: shape };
    const reference = referenceOf(spec);
    if (reference !== undefined) {
      const refused = this.#mayRegistrationRead(reference) ?? this.#invalidReferenced(spec, reference);
      if (refused !== undefined) return { ok: false, message: refused };
    }
    if (spec.type === 'gateway' && this.#options.gatewayTokenIsClientToken && this.#options.upstreamTokenIsPublic !== true) {
      return {
        ok: false,
        message:
          "the gateway's upstream token is also a token clients present, so a registered service could use it to administer the gateway; set MESHGATE_UPSTREAM_TOKEN to a token of its own, or give the service its own credential",
      };
    }
    const literal = literalOf(spec);
    if (literal !== undefined && !this.#options.canSealSecrets) {
      return {
        ok: false,
        message:
          'a literal secret in a registration is stored encrypted, and MESHGATE_SECRET_KEY is not set; set it, or reference an allowed environment variable instead',
      };
    }
    return { ok: true, warnings: this.sharedWithClients(spec, 'registered') };
  }

  /** Checks a credential from the config file; warnings are for the start-up log. */
  checkConfigured(spec: CredentialSpec): PolicyCheck {
    const shape = checkShape(spec);
    if (shape !== undefined) return { ok: false, message: shape };
    const reference = referenceOf(spec);
    if (reference !== undefined && isOwnSetting(reference, this.#options.ownSettings)) {
      return { ok: false, message: `environment variable ${reference} is one of the gateway's own settings and cannot be referenced` };
    }
    const invalid = reference === undefined ? undefined : this.#invalidReferenced(spec, reference);
    if (invalid !== undefined) return { ok: false, message: invalid };
    return { ok: true, warnings: this.sharedWithClients(spec, 'config') };
  }

  /** Why the value a reference names cannot be sent now (a variable set later is checked when connecting). */
  #invalidReferenced(spec: CredentialSpec, reference: string): string | undefined {
    const value = this.#env[reference];
    if (value === undefined || value === '') return undefined;
    return invalidValue(value, `environment variable ${reference}`, spec.type === 'bearer');
  }

  /** A warning when the credential's value is a token the gateway accepts from clients. */
  sharedWithClients(spec: CredentialSpec, source: 'config' | 'registered'): string[] {
    const value = secretOf(spec, this.envFor(source));
    if (value === undefined || !this.#options.clientTokens.includes(value)) return [];
    return ['the credential is also a token the gateway accepts from clients: the service could call the gateway with it'];
  }
}

/** The literal secret a spec carries, if any. */
export function literalOf(spec: CredentialSpec): string | undefined {
  if (spec.type === 'bearer') return spec.token;
  if (spec.type === 'header') return spec.value;
  return undefined;
}

function referenceOf(spec: CredentialSpec): string | undefined {
  return spec.type === 'bearer' ? spec.tokenEnv : spec.type === 'header' ? spec.valueEnv : undefined;
}

function secretOf(spec: CredentialSpec, env: EnvAccess): string | undefined {
  const literal = literalOf(spec);
  if (literal !== undefined) return literal;
  const reference = referenceOf(spec);
  if (reference === undefined) return undefined;
  const read = env(reference);
  return read.ok ? read.value : undefined;
}

/** Header name and literal value checks shared by every source. */
function checkShape(spec: CredentialSpec): string | undefined {
  if (spec.type === 'header' && isReservedHeader(spec.header)) {
    return `header ${spec.header} cannot carry a credential: framing, routing, connection and MCP protocol headers are the gateway's own`;
  }
  if (spec.type === 'bearer' && spec.token !== undefined) return invalidValue(spec.token, 'the bearer token', true);
  if (spec.type === 'header' && spec.value !== undefined) return invalidValue(spec.value, `the value of header ${spec.header}`, false);
  return undefined;
}
