/**
 * Literal secrets of registered services, sealed before they reach a store's file:
 * AES-256-GCM with the key from MESHGATE_SECRET_KEY, a fresh 12-byte IV each time, and the
 * service's name as additional data, so a sealed secret copied into another service's
 * row does not open. References to environment variables are not secrets and stay as
 * they are.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CredentialSpec } from '../model/service.js';

const VERSION = 'v1';

/** A credential as a store writes it: literal secrets replaced by `sealed`. */
export type StoredCredential = CredentialSpec | { type: 'bearer'; sealed: string } | { type: 'header'; header: string; sealed: string };

function seal(secret: string, key: Buffer, service: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(service, 'utf8'));
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join('.');
}

function unseal(sealed: string, key: Buffer, service: string): string | undefined {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(service, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return undefined; // another key, or a tampered row
  }
}

/**
 * The form to store. Throws when a literal secret would have to be written without a key:
 * registrations are checked for that before they connect (credential-policy.ts), so this
 * is the last line, never the first.
 */
export function sealCredential(spec: CredentialSpec, key: Buffer | undefined, service: string): StoredCredential {
  const literal = spec.type === 'bearer' ? spec.token : spec.type === 'header' ? spec.value : undefined;
  if (literal === undefined) return spec;
  if (key === undefined) throw new Error(`service "${service}" has a literal secret and MESHGATE_SECRET_KEY is not set, so it cannot be stored`);
  return spec.type === 'header'
    ? { type: 'header', header: spec.header, sealed: seal(literal, key, service) }
    : { type: 'bearer', sealed: seal(literal, key, service) };
}

/** The credential again, or why its secret could not be opened (the credential then has no secret, and connecting says so). */
export function unsealCredential(stored: StoredCredential, key: Buffer | undefined, service: string): { spec: CredentialSpec; problem?: string } {
  if (!('sealed' in stored)) return { spec: stored };
  const secret = key === undefined ? undefined : unseal(stored.sealed, key, service);
  const bare: CredentialSpec = stored.type === 'header' ? { type: 'header', header: stored.header } : { type: 'bearer' };
  if (secret === undefined) {
    const why = key === undefined ? 'MESHGATE_SECRET_KEY is not set' : 'MESHGATE_SECRET_KEY is not the key it was sealed with';
    return {
      spec: bare,
      problem: `the stored secret of service "${service}" cannot be opened: ${why}; set the key it was stored with, or PUT a new credential`,
    };
  }
  return { spec: stored.type === 'header' ? { type: 'header', header: stored.header, value: secret } : { type: 'bearer', token: secret } };
}
