/**
 * A tiny authorization server for tests: a real node:http server publishing a JWKS, and a
 * signer for access tokens with its key (or with a stranger's key, for the wrong-key case).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const ISSUER = 'https://auth.example.test';

export interface TestIssuer {
  jwksUrl: string;
  /** How many times the JWKS was fetched. */
  readonly fetches: number;
  /** Signs an access token; `expiresIn` in seconds from now (negative: already expired). */
  sign(claims: JWTPayload, options?: { expiresIn?: number; issuer?: string; audience?: string | string[]; key?: 'stranger' }): Promise<string>;
  close(): Promise<void>;
}

/** Starts the JWKS server on an ephemeral 127.0.0.1 port; `audience` is the default `aud`. */
export async function startTestIssuer(audience: string): Promise<TestIssuer> {
  const own = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  const publicJwk = { ...(await exportJWK(own.publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  let fetches = 0;
  const server = createServer((_request, response) => {
    fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    get fetches() {
      return fetches;
    },
    async sign(claims, options = {}) {
      const key: CryptoKey = options.key === 'stranger' ? stranger.privateKey : own.privateKey;
      // The stranger's key claims the same kid: only the signature can tell it apart.
      return new SignJWT({ sub: 'alice', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key', typ: 'at+jwt' })
        .setIssuer(options.issuer ?? ISSUER)
        .setAudience(options.audience ?? audience)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 300))
        .sign(key);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
