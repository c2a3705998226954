import type { AuthVariables } from '@meshgate/service-kit';
import { Hono } from 'hono';
import { z } from 'zod';
import type { GatewayIdentity } from '../auth/tokens.js';
import { virtualServerFields, virtualServerInput } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { unknownVirtualServer, type VirtualServer, type VirtualServers } from '../federation/virtual-servers.js';
import type { Catalog } from '../model/catalog.js';
import type { IndexEntry } from '../model/item-index.js';
import { virtualServerPath } from '../model/virtual-server.js';
import type { PendingAuditEntry } from '../observability/audit.js';
import { auditedChange, describeIssues, readJson, requireRole } from './admin.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };

const replacement = z.strictObject(virtualServerFields);

/**
 * A virtual server as `GET /virtual-servers` shows it: its definition, its endpoint, and
 * what it serves now (names), as far as the caller's allow-list lets the caller use it.
 */
export function virtualServerView(server: VirtualServer, catalog: Catalog, identity: GatewayIdentity) {
  const { record } = server;
  const view = server.view(catalog).catalog;
  const names = (entries: readonly IndexEntry<unknown>[]) =>
    entries.filter((entry) => identity.allowList === undefined || identity.allowList.allows(entry)).map((entry) => entry.exposedName);
  return {
    name: record.name,
    path: virtualServerPath(record.name),
    mode: server.mode,
    ...(record.description === undefined ? {} : { description: record.description }),
    source: record.source,
    selectors: { tools: record.tools, prompts: record.prompts ?? [], resources: record.resources ?? [] },
    ...(record.overrides === undefined ? {} : { overrides: record.overrides }),
    ...(server.overrideProblems.length === 0 ? {} : { overrideProblems: server.overrideProblems }),
    serves: {
      tools: names(view.tools.entries),
      prompts: names(view.prompts.entries),
      resources: names(view.resources.entries),
      resourceTemplates: names(view.resourceTemplates.entries),
    },
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** `/virtual-servers`: list and read (any role), create, replace and delete (admin), each change audited. */
export function virtualServerRoutes(servers: VirtualServers, catalog: () => Catalog, audit?: (entry: PendingAuditEntry) => void): Hono<Env> {
  const app = new Hono<Env>();
  const found = (name: string) => {
    const server = servers.get(name);
    if (server === undefined) throw unknownVirtualServer(name);
    return server;
  };
  // What the audit log keeps of a server: its definition (there are no secrets in one).
  const snapshot = (name: string) => () => {
    const record = servers.get(name)?.record;
    return record === undefined ? null : { ...record };
  };
  const audited = <T>(
    kind: 'virtual-server.create' | 'virtual-server.update' | 'virtual-server.delete',
    identity: GatewayIdentity,
    name: string,
    change: () => Promise<T>,
  ) => auditedChange(audit, { kind, identity, service: null, target: name }, snapshot(name), change);

  app.get('/virtual-servers', (c) => c.json({ virtualServers: servers.list().map((server) => virtualServerView(server, catalog(), c.get('identity'))) }));
  app.get('/virtual-servers/:name', (c) => c.json(virtualServerView(found(c.req.param('name')), catalog(), c.get('identity'))));

  app.post('/virtual-servers', requireRole('admin'), async (c) => {
    const parsed = virtualServerInput.safeParse(await readJson(c.req.raw));
    if (!parsed.success) throw new GatewayError('invalid_body', `Invalid virtual server: ${describeIssues(parsed.error)}`);
    const server = await audited('virtual-server.create', c.get('identity'), parsed.data.name, () => servers.create(parsed.data));
    return c.json(virtualServerView(server, catalog(), c.get('identity')), 201);
  });

  app.put('/virtual-servers/:name', requireRole('admin'), async (c) => {
    const name = c.req.param('name');
    const parsed = replacement.safeParse(await readJson(c.req.raw));
    if (!parsed.success) throw new GatewayError('invalid_body', `Invalid virtual server: ${describeIssues(parsed.error)}`);
    const server = await audited('virtual-server.update', c.get('identity'), name, () => servers.replace(name, parsed.data));
    return c.json(virtualServerView(server, catalog(), c.get('identity')));
  });

  app.delete('/virtual-servers/:name', requireRole('admin'), async (c) => {
    const name = c.req.param('name');
    await audited('virtual-server.delete', c.get('identity'), name, () => servers.remove(name));
    return c.body(null, 204);
  });
  return app;
}
