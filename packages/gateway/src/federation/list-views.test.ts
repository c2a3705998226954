import type { Tool } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { AllowList } from '../auth/allow-list.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { Catalog, EMPTY_LISTINGS } from '../model/catalog.js';
import type { Registry } from '../registry/registry.js';
import type { RequestContext, SessionScope } from './context.js';
import { Federation } from './federation.js';

const tool = (name: string, taskOnly = false): Tool =>
  taskOnly ? { name, inputSchema: { type: 'object' }, execution: { taskSupport: 'required' } } : { name, inputSchema: { type: 'object' } };
const build = (names: string[]) =>
  Catalog.build([{ service: 'shop', listings: { ...EMPTY_LISTINGS, tools: names.map((name) => tool(name, name.startsWith('task'))) }, origin: 'live' }]);
const admin: GatewayIdentity = { name: 'admin', roles: new Set(['client']) };
const federation = new Federation({} as Registry, {} as never, 3);
const ctx = (catalog: Catalog, overrides: Partial<RequestContext> = {}): RequestContext => ({
  identity: admin,
  requestId: 1,
  method: 'tools/list',
  catalog,
  signal: undefined,
  downstream: undefined,
  progressToken: undefined,
  traceparent: undefined,
  session: undefined,
  ...overrides,
});

/** Follows nextCursor from the first page to the last; returns every name served and every result. */
function walk(catalog: Catalog, overrides: Partial<RequestContext> = {}) {
  const names: string[] = [];
  const results: Record<string, unknown>[] = [];
  let cursor: unknown;
  do {
    const result = federation.list(ctx(catalog, overrides), 'tools/list', cursor === undefined ? undefined : { cursor });
    results.push(result);
    names.push(...(result['tools'] as { name: string }[]).map((t) => t.name));
    cursor = result['nextCursor'];
  } while (cursor !== undefined);
  return { names, results };
}

describe('Federation.list over list views', () => {
  const names = ['a', 'b', 'task1', 'c', 'd', 'e', 'task2', 'f'];

  it('serves every item exactly once per view, and the same frozen page objects on every walk', () => {
    const catalog = build(names);
    const first = walk(catalog);
    expect(first.names).toEqual(names);
    const again = walk(catalog);
    expect(again.results.every((result, i) => result === first.results[i])).toBe(true);
    expect(first.results.every((result) => Object.isFrozen(result))).toBe(true);
  });

  it('keeps apart the views of an allow-list and of a session before tasks', () => {
    const catalog = build(names);
    const limited: GatewayIdentity = { name: 'limited', roles: new Set(['client']), allowList: new AllowList(['a', 'task1', 'd', 'e', 'f']) };
    const old = { protocolVersion: '2025-06-18' } as unknown as SessionScope;
    expect(walk(catalog, { identity: limited }).names).toEqual(['a', 'task1', 'd', 'e', 'f']);
    expect(walk(catalog, { session: old }).names).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(walk(catalog, { identity: limited, session: old }).names).toEqual(['a', 'd', 'e', 'f']);
    expect(walk(catalog).names).toEqual(names);
    const limitedPages = walk(catalog, { identity: limited }).results;
    expect(walk(catalog, { identity: limited }).results.every((result, i) => result === limitedPages[i])).toBe(true);
  });

  it('a rebuilt catalog answers from new views; a cursor from the old one resumes after its item', () => {
    const before = build(names);
    const page = federation.list(ctx(before), 'tools/list', undefined);
    expect((page['tools'] as { name: string }[]).map((t) => t.name)).toEqual(['a', 'b', 'task1']);
    const after = build(['new', ...names]);
    const next = federation.list(ctx(after), 'tools/list', { cursor: page['nextCursor'] });
    expect((next['tools'] as { name: string }[]).map((t) => t.name)).toEqual(['c', 'd', 'e']);
    expect(federation.list(ctx(after), 'tools/list', undefined)).not.toBe(page);
  });
});
