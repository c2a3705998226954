/**
 * The cast of the authentication cases: a gateway federating one recording backend, with
 * client tokens of every kind configured through MESHGATE_TOKENS. The backend accepts
 * only the gateway's own upstream credential (the seed's mcp-token-123), which no client
 * holds here, so any client token reaching it would show in its recorded headers.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { TOKEN } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';
import { type RecordingBackend, startGatewayFor, startRecordingBackend } from './harness.js';

/** The gateway's credential towards the backend (MESHGATE_UPSTREAM_TOKEN defaults to it). */
export const UPSTREAM_TOKEN = TOKEN;

export const TOKENS = {
  admin: 'admin-secret-6f1c2a',
  ops: 'ops-secret-93b7d0',
  agent: 'agent-secret-4e8a51',
  alice: 'alice-secret-0c3d9f',
  bob: 'bob-secret-7a2e64',
} as const;

/** Tools of the backend: `lookup` is on the agent's allow-list, `erase` is not. */
export const BACKEND_TOOLS = ['lookup', 'erase'];

const TOKEN_CONFIG = [
  { name: 'admin', token: TOKENS.admin, roles: ['admin', 'client'] },
  { name: 'ops', token: TOKENS.ops, roles: ['admin'] },
  { name: 'agent', token: TOKENS.agent, roles: ['client'], tools: ['lookup'] },
  { name: 'alice', token: TOKENS.alice, roles: ['client'] },
  { name: 'bob', token: TOKENS.bob, roles: ['client'] },
];

export interface AuthMesh {
  backend: RecordingBackend;
  gateway: StartedProcess;
  close(): Promise<void>;
}

/** Starts the recording backend and a gateway with the cast's tokens (the default token is off). */
export async function startAuthMesh(env: Record<string, string> = {}): Promise<AuthMesh> {
  const backend = await startRecordingBackend('recorder', BACKEND_TOOLS);
  const gateway = await startGatewayFor(backend, { MESHGATE_TOKENS: JSON.stringify(TOKEN_CONFIG), MESHGATE_UPSTREAM_TOKEN: UPSTREAM_TOKEN, ...env });
  return {
    backend,
    gateway,
    close: async () => {
      await gateway.stop();
      await backend.close();
    },
  };
}

/** Every Authorization header the backend has received (requests without one are left out). */
export function authorizationsSeen(backend: RecordingBackend): Set<string> {
  return new Set(backend.seen.flatMap((entry) => (entry.headers.authorization === undefined ? [] : [entry.headers.authorization])));
}

/** An SDK v2 client with a session on the gateway, under `token`. */
export async function sessionClient(gateway: StartedProcess, token: string): Promise<Client> {
  const client = new Client({ name: 'security-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}
