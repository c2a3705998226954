/** What the fault tests share: the dynamic fixture's name and tools, bounded waits, a config with no services, and small client helpers. */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { api, rpc, TOKEN } from '../helpers/mesh.js';

export const DYNAMIC = 'dynamic-service';
export const DYNAMIC_TOOLS = ['echo', 'slow', 'progress'];
/** The gateway's own error codes for a service that cannot serve a call (errors.ts). */
export const SERVICE_FAILURE_CODES = [-32010, -32011, -32012, -32013];

export const sleep = (ms: number) => new Promise<void>((wake) => setTimeout(wake, ms));

/** Resolves with `promise`'s outcome, or with `'hung'` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  const settled = promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return Promise.race([settled, bound]).finally(() => clearTimeout(timer));
}

/** A gateway config file with no configured services: only registrations are federated. */
export function emptyConfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'meshgate-cfg-')), 'services.json');
  writeFileSync(path, JSON.stringify({ services: [] }));
  return path;
}

export async function connectClient(gatewayUrl: string, name: string): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  return client;
}

export async function toolNames(gatewayUrl: string): Promise<string[]> {
  const { body } = await rpc(gatewayUrl, 'tools/list');
  return body.result.tools.map((tool: { name: string }) => tool.name);
}

export async function serviceStatus(gatewayUrl: string, name: string): Promise<string | undefined> {
  const { body } = await api(gatewayUrl, 'GET', '/services');
  return body.services.find((service: { name: string }) => service.name === name)?.status;
}
