import { z } from 'zod';
import type { AuthConfig } from '../auth/authenticator.js';
import { DEFAULT_SCOPE_MAP, type ParseResult, ScopeMap } from '../auth/scopes.js';
import type { TokenEntry } from '../auth/tokens.js';
import { optional } from './setting.js';
import { httpUrl, selectorInput } from './values.js';

/** The authentication variables: part of the env schema and of docs/configuration.md. */
export const AUTH_SETTINGS = {
  MESHGATE_TOKENS: optional(
    z.string(),
    '(none)',
    "JSON list of client tokens, as in the config file's `tokens` ([authentication](security.md#authentication-and-roles)); replaces the default token",
  ),
  MESHGATE_RESOURCE_URL: optional(
    httpUrl,
    '(from the request: `http://<Host>/mcp`)',
    "Canonical URL of the MCP endpoint: the RFC 8707 resource and the RFC 9728 metadata's `resource`; set it behind a proxy",
  ),
  MESHGATE_JWT_JWKS_URL: optional(httpUrl, '(none: JWTs off)', 'JWKS URL of the authorization server; turns on JWT access tokens'),
  MESHGATE_JWT_ISSUER: optional(z.string().min(1), '(none; required with JWTs)', 'Required `iss` of JWTs; published as the authorization server'),
  MESHGATE_JWT_AUDIENCE: optional(z.string().min(1), '(MESHGATE_RESOURCE_URL)', 'Required `aud` of JWTs; one of the two must be set with JWTs'),
  // Optional rather than defaulted: set without a JWKS URL, it is a mistake worth reporting (resolveJwt).
  MESHGATE_JWT_SCOPES: optional(z.string(), DEFAULT_SCOPE_MAP, 'OAuth scopes and the role each grants'),
  MESHGATE_JWT_TOOLS_CLAIM: optional(z.string().min(1), '(none)', "JWT claim holding the token's tool allow-list (a list or a space-separated string)"),
};
type AuthEnv = { [K in keyof typeof AUTH_SETTINGS]?: string | undefined };

/** One client token, as written in the config file's `tokens` or in MESHGATE_TOKENS. */
export const tokenInput = z
  .strictObject({
    // Never `jwt:…`, so a static token's sessions can never be confused with a JWT subject's.
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be letters, digits, dots, dashes, underscores (at most 64)'),
    token: z.string().min(1).optional(),
    tokenEnv: z.string().min(1).optional(),
    roles: z.array(z.enum(['admin', 'client'])).min(1, 'give at least one of admin, client'),
    tools: z.array(selectorInput).optional(),
  })
  .refine((entry) => (entry.token === undefined) !== (entry.tokenEnv === undefined), 'give exactly one of "token" or "tokenEnv"');
export type TokenInput = z.infer<typeof tokenInput>;

const tokenList = z.array(tokenInput);

/**
 * The secret a `tokenEnv` names. MCP_BEARER_TOKEN resolves to its default (`mcp-token-123`)
 * when unset, like everywhere else, so the documented way of keeping the seed's token beside
 * configured ones works without setting the variable.
 */
function tokenFromEnv(name: string, values: { MCP_BEARER_TOKEN: string }, env: Record<string, string | undefined>): string | undefined {
  return name === 'MCP_BEARER_TOKEN' ? values.MCP_BEARER_TOKEN : env[name];
}

/**
 * Resolves the authentication settings. Static tokens come from the config file and
 * MESHGATE_TOKENS together. The default token (MCP_BEARER_TOKEN, admin and client) is
 * accepted only when neither static tokens nor JWTs are configured, so that configuring
 * real credentials never leaves the well-known seed token open by accident.
 */
export function resolveAuth(
  values: AuthEnv & { MCP_BEARER_TOKEN: string },
  fileTokens: TokenInput[] | undefined,
  env: Record<string, string | undefined>,
): ParseResult<AuthConfig> {
  const fromEnv = parseEnvTokens(values.MESHGATE_TOKENS);
  if (!fromEnv.ok) return fromEnv;
  const scopes = ScopeMap.parse(values.MESHGATE_JWT_SCOPES ?? DEFAULT_SCOPE_MAP);
  if (!scopes.ok) return { ok: false, message: `env.MESHGATE_JWT_SCOPES: ${scopes.message}` };
  const resourceUrl = values.MESHGATE_RESOURCE_URL === undefined ? undefined : new URL(values.MESHGATE_RESOURCE_URL).toString();
  const jwt = resolveJwt(values, resourceUrl);
  if (!jwt.ok) return jwt;

  const configured = fileTokens !== undefined || fromEnv.value !== undefined;
  const inputs = [...(fileTokens ?? []), ...(fromEnv.value ?? [])];
  const tokens: TokenEntry[] = [];
  for (const input of inputs) {
    const secret = input.token ?? tokenFromEnv(input.tokenEnv ?? '', values, env);
    if (secret === undefined || secret === '') return { ok: false, message: `token "${input.name}": the variable ${input.tokenEnv} is not set` };
    if (tokens.some((entry) => entry.name === input.name)) return { ok: false, message: `token "${input.name}" is listed twice` };
    // Same secret twice would make the caller's identity depend on list order: refuse, naming only the entries.
    const twin = tokens.find((entry) => entry.token === secret);
    if (twin !== undefined) return { ok: false, message: `tokens "${twin.name}" and "${input.name}" have the same secret` };
    tokens.push({ name: input.name, token: secret, roles: input.roles, ...(input.tools === undefined ? {} : { tools: input.tools }) });
  }
  if (!configured && jwt.value === undefined) tokens.push({ name: 'default', token: values.MCP_BEARER_TOKEN, roles: ['admin', 'client'] });
  if (tokens.length === 0 && jwt.value === undefined) return { ok: false, message: 'no token is configured and JWTs are off: nobody could call the gateway' };

  return {
    ok: true,
    value: {
      tokens,
      scopes: scopes.value,
      ...(resourceUrl === undefined ? {} : { resourceUrl }),
      ...(jwt.value === undefined ? {} : { jwt: jwt.value }),
    },
  };
}

/** MESHGATE_TOKENS; a JSON error is reported without the parser's excerpt, which would quote secrets. */
function parseEnvTokens(text: string | undefined): ParseResult<TokenInput[] | undefined> {
  if (text === undefined) return { ok: true, value: undefined };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: 'env.MESHGATE_TOKENS: is not valid JSON; expected [{"name": "…", "tokenEnv": "…", "roles": ["client"]}]' };
  }
  const parsed = tokenList.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `env.MESHGATE_TOKENS${issue.path.map((part) => `.${String(part)}`).join('')}: ${issue.message}`);
    return { ok: false, message: issues.join('; ') };
  }
  return { ok: true, value: parsed.data };
}

function resolveJwt(values: AuthEnv, resourceUrl: string | undefined): ParseResult<AuthConfig['jwt']> {
  const { MESHGATE_JWT_JWKS_URL: jwksUrl, MESHGATE_JWT_ISSUER: issuer, MESHGATE_JWT_TOOLS_CLAIM: toolsClaim } = values;
  if (jwksUrl === undefined) {
    const stray = (['MESHGATE_JWT_ISSUER', 'MESHGATE_JWT_AUDIENCE', 'MESHGATE_JWT_SCOPES', 'MESHGATE_JWT_TOOLS_CLAIM'] as const).find(
      (name) => values[name] !== undefined,
    );
    return stray === undefined
      ? { ok: true, value: undefined }
      : { ok: false, message: `env.${stray}: is set but MESHGATE_JWT_JWKS_URL is not, so JWTs are off` };
  }
  if (issuer === undefined) return { ok: false, message: 'env.MESHGATE_JWT_ISSUER: is required with MESHGATE_JWT_JWKS_URL' };
  // RFC 8707: a token must have been issued for this gateway, so there is always an audience to check.
  const audience = values.MESHGATE_JWT_AUDIENCE ?? resourceUrl;
  if (audience === undefined) {
    return { ok: false, message: "env.MESHGATE_JWT_AUDIENCE: set it or MESHGATE_RESOURCE_URL; JWTs are checked against this gateway's own URL" };
  }
  return { ok: true, value: { jwksUrl, issuer, audience, ...(toolsClaim === undefined ? {} : { toolsClaim }) } };
}
