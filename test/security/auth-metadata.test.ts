/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) with zero configuration: served open at
 * both well-known URLs, its `resource` is the MCP endpoint the client reached, and every
 * 401 points at it. (With JWTs configured, see auth-jwt.test.ts and below.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUER } from '../helpers/jwks.js';
import { rpc, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

let seed: StartedProcess;
let withJwt: StartedProcess;

beforeAll(async () => {
  // No service needs to be up to describe the gateway's authorization.
  const down = { SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp', USER_SERVICE_URL: 'http://127.0.0.1:9/mcp' };
  [seed, withJwt] = await Promise.all([
    startGateway(down),
    startGateway({
      ...down,
      MESHGATE_JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json',
      MESHGATE_JWT_ISSUER: ISSUER,
      MESHGATE_RESOURCE_URL: 'https://meshgate.test/mcp',
      MESHGATE_JWT_SCOPES: 'tools.call=client,gateway.admin=admin',
    }),
  ]);
});
afterAll(stopAll);

describe('protected resource metadata', () => {
  it.each(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'])('GET %s: open, JSON, the /mcp resource', async (path) => {
    const response = await fetch(`${seed.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toEqual({
      resource: `${seed.url}/mcp`,
      scopes_supported: ['mcp:tools', 'mcp:admin'],
      bearer_methods_supported: ['header'],
      resource_name: 'Meshgate MCP gateway',
    });
  });

  it('the 401 on /mcp points at the path-suffixed document, which a client can fetch', async () => {
    const { status, headers } = await rpc(seed.url, 'tools/list', undefined, { token: null });
    expect(status).toBe(401);
    const url = /resource_metadata="([^"]+)"/.exec(headers.get('www-authenticate') ?? '')?.[1];
    expect(url).toBe(`${seed.url}/.well-known/oauth-protected-resource/mcp`);
    expect(((await (await fetch(url!)).json()) as { resource: string }).resource).toBe(`${seed.url}/mcp`);
  });

  it('the seed token still works with zero configuration', async () => {
    expect((await rpc(seed.url, 'ping', undefined, { token: TOKEN })).status).toBe(200);
  });

  it('with JWTs: the configured resource, the issuer as authorization server, the configured scopes', async () => {
    const response = await fetch(`${withJwt.url}/.well-known/oauth-protected-resource/mcp`);
    expect(await response.json()).toEqual({
      resource: 'https://meshgate.test/mcp',
      authorization_servers: [ISSUER],
      scopes_supported: ['tools.call', 'gateway.admin'],
      bearer_methods_supported: ['header'],
      resource_name: 'Meshgate MCP gateway',
    });
    const { status, headers } = await rpc(withJwt.url, 'tools/list', undefined, { token: TOKEN });
    // JWTs alone turn the seed token off.
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toContain('resource_metadata="https://meshgate.test/.well-known/oauth-protected-resource/mcp"');
  });
});
