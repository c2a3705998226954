import { type Identity, StaticTokenVerifier } from '@meshgate/service-kit';
import { AllowList } from './allow-list.js';

export type Role = 'admin' | 'client';

/** A caller of the gateway: the name of its credential and what it may do. */
export interface GatewayIdentity extends Identity {
  readonly roles: ReadonlySet<Role>;
  /** The tools (prompts, resources) this caller may see and use; absent allows all. */
  readonly allowList?: AllowList;
}

export interface TokenEntry {
  name: string;
  token: string;
  roles: Role[];
  /** Tool allow-list entries (see AllowList); absent allows all. */
  tools?: string[];
}

/**
 * Static Bearer tokens, compared in constant time. Every entry is checked, matched or
 * not, so the time taken does not tell which entry (if any) came close.
 */
export class TokenAuthenticator {
  readonly #entries: { verifier: StaticTokenVerifier; identity: GatewayIdentity }[];

  constructor(entries: TokenEntry[]) {
    this.#entries = entries.map((entry) => ({
      verifier: new StaticTokenVerifier(entry.token),
      identity: { name: entry.name, roles: new Set(entry.roles), ...(entry.tools === undefined ? {} : { allowList: new AllowList(entry.tools) }) },
    }));
  }

  authenticate = (token: string): GatewayIdentity | undefined => {
    let found: GatewayIdentity | undefined;
    for (const entry of this.#entries) {
      if (entry.verifier.matches(token) && found === undefined) found = entry.identity;
    }
    return found;
  };
}
