import type { Tool } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { Catalog, EMPTY_LISTINGS, type Listings, type ServiceListings } from './catalog.js';
import { qualify, qualifyUri, unqualify, unqualifyUri } from './naming.js';

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: 'object' }, ...extra });
const withTools = (service: string, tools: Tool[], origin: 'live' | 'fallback' = 'live'): ServiceListings => ({
  service,
  listings: { ...EMPTY_LISTINGS, tools },
  origin,
});
const svc = (service: string, ...names: string[]): ServiceListings =>
  withTools(
    service,
    names.map((n) => tool(n)),
  );
const listing = (service: string, listings: Partial<Listings>): ServiceListings => ({ service, listings: { ...EMPTY_LISTINGS, ...listings }, origin: 'live' });

describe('naming', () => {
  it.each([
    ['shopping-service', 'getProductById', 'shopping-service__getProductById'],
    ['a', 'x__y', 'a__x__y'],
    ['s3', 'list', 's3__list'],
  ])('qualify(%s, %s) = %s and unqualify reverses it', (service, upstreamName, qualified) => {
    expect(qualify(service, upstreamName)).toBe(qualified);
    expect(unqualify(qualified)).toEqual({ service, upstreamName });
  });

  it.each(['plain', '__x', 'Bad__x', 'svc__', 'under_score__x'])('unqualify(%s) is undefined', (name) => {
    expect(unqualify(name)).toBeUndefined();
  });
});

describe('Catalog.build', () => {
  it('keeps unique names bare, in service order', () => {
    const catalog = Catalog.build([svc('a', 'one', 'two'), svc('b', 'three')]);
    expect(catalog.tools.items.map((t) => t.name)).toEqual(['one', 'two', 'three']);
    expect(catalog.clashes).toEqual([]);
  });

  it('leaves the bare name with the first service and qualifies the newcomer', () => {
    const catalog = Catalog.build([svc('a', 'get'), svc('b', 'get')]);
    expect(catalog.tools.items.map((t) => t.name)).toEqual(['get', 'b__get']);
    expect(catalog.tools.resolve('get')?.service).toBe('a');
    expect(catalog.tools.resolve('b__get')).toMatchObject({ service: 'b', upstreamName: 'get' });
    expect(catalog.clashes).toEqual([{ kind: 'tool', name: 'get', owner: 'a', service: 'b', exposedAs: 'b__get' }]);
  });

  it("resolves every tool by its qualified name, the owner's too", () => {
    const catalog = Catalog.build([svc('a', 'get'), svc('b', 'get', 'put')]);
    expect(catalog.tools.resolve('a__get')).toMatchObject({ service: 'a', upstreamName: 'get', exposedName: 'get' });
    expect(catalog.tools.resolve('b__put')).toMatchObject({ service: 'b', upstreamName: 'put', exposedName: 'put' });
    expect(catalog.tools.resolve('c__get')).toBeUndefined();
  });

  it("never lets a bare name shadow another service's qualified name, and never qualifies a qualified name again", () => {
    // Service x has a tool literally named "y__z"; service y has "z". "y__z" must mean y's z;
    // x's "y__z" is dropped rather than renamed "x__y__z" (how loops grow names).
    const catalog = Catalog.build([svc('x', 'y__z'), svc('y', 'z')]);
    expect(catalog.tools.resolve('y__z')).toMatchObject({ service: 'y', upstreamName: 'z' });
    expect(catalog.tools.resolve('x__y__z')).toBeUndefined();
    expect(catalog.tools.items.map((t) => t.name)).toEqual(['z']);
    expect(catalog.clashes).toEqual([{ kind: 'tool', name: 'y__z', owner: 'y', service: 'x', exposedAs: null }]);
  });

  it('keeps a bare name with its holder while the holder is in the federation, even when it stops listing it', () => {
    const first = Catalog.build([svc('a', 'get', 'put'), svc('b', 'get')]);
    expect(first.tools.resolve('get')?.service).toBe('a');
    // a restarts with fewer tools: b does not take "get" over.
    const shrunk = Catalog.build([svc('a', 'put'), svc('b', 'get')], first);
    expect(shrunk.tools.items.map((t) => t.name)).toEqual(['put', 'b__get']);
    expect(shrunk.tools.resolve('get')).toBeUndefined();
    // a comes back with it: it is a's again, not b's.
    const back = Catalog.build([svc('a', 'get', 'put'), svc('b', 'get')], shrunk);
    expect(back.tools.resolve('get')?.service).toBe('a');
    // Even in another federation order (a re-registered behind b), a keeps it while it stays.
    const reordered = Catalog.build([svc('b', 'get'), svc('a', 'get')], back);
    expect(reordered.tools.resolve('get')?.service).toBe('a');
    expect(reordered.tools.resolve('b__get')?.service).toBe('b');
    // a leaves the federation: the name goes to the next service that lists it.
    expect(Catalog.build([svc('b', 'get')], reordered).tools.resolve('get')?.service).toBe('b');
  });

  it('passes definitions through untouched except the exposed name', () => {
    const original = tool('get', { description: 'd', inputSchema: { type: 'object', properties: { id: { type: 'string' } } }, _meta: { k: 1 } });
    const catalog = Catalog.build([svc('a', 'get'), withTools('b', [original], 'fallback')]);
    expect(catalog.tools.items[1]).toEqual({ ...original, name: 'b__get' });
    expect(catalog.tools.resolve('b__get')?.origin).toBe('fallback');
    expect(original.name).toBe('get'); // the service's own definition is not mutated
  });

  it('ignores a name a service lists twice', () => {
    expect(Catalog.build([svc('a', 'get', 'get')]).tools.items).toHaveLength(1);
  });

  it('rebuilds to the same result for the same input (order is the only tie-breaker)', () => {
    const input = [svc('a', 'get'), svc('b', 'get'), svc('c', 'get')];
    expect(Catalog.build(input).tools.items).toEqual(Catalog.build(input).tools.items);
    expect(Catalog.build(input).tools.items.map((t) => t.name)).toEqual(['get', 'b__get', 'c__get']);
  });
});

describe('URI naming', () => {
  it.each([
    ['docs', 'file:///a.md', 'meshgate://docs/file:///a.md'],
    ['s', 'test://static-text', 'meshgate://s/test://static-text'],
    ['s', 'meshgate://t/x', 'meshgate://s/meshgate://t/x'],
  ])('qualifyUri(%s, %s) = %s and unqualifyUri reverses it', (service, uri, qualified) => {
    expect(qualifyUri(service, uri)).toBe(qualified);
    expect(unqualifyUri(qualified)).toEqual({ service, upstreamName: uri });
  });

  it.each(['file:///x', 'meshgate://', 'meshgate://Bad/x', 'meshgate://svc/'])('unqualifyUri(%s) is undefined', (uri) => {
    expect(unqualifyUri(uri)).toBeUndefined();
  });
});

describe('Catalog: prompts, resources and templates', () => {
  const prompt = (name: string) => ({ name, description: name });
  const resource = (uri: string) => ({ uri, name: uri });
  const template = (uriTemplate: string) => ({ uriTemplate, name: uriTemplate });

  it('names prompts like tools, in their own namespace', () => {
    const catalog = Catalog.build([listing('a', { prompts: [prompt('greet')], tools: [tool('greet')] }), listing('b', { prompts: [prompt('greet')] })]);
    expect(catalog.prompts.items.map((p) => p.name)).toEqual(['greet', 'b__greet']);
    expect(catalog.tools.items.map((t) => t.name)).toEqual(['greet']);
    expect(catalog.clashes).toEqual([{ kind: 'prompt', name: 'greet', owner: 'a', service: 'b', exposedAs: 'b__greet' }]);
  });

  it('keeps unique URIs, namespaces a clashing one, and routes both forms', () => {
    const catalog = Catalog.build([
      listing('a', { resources: [resource('test://x')] }),
      listing('b', { resources: [resource('test://x'), resource('test://y')] }),
    ]);
    expect(catalog.resources.items.map((r) => r.uri)).toEqual(['test://x', 'meshgate://b/test://x', 'test://y']);
    expect(catalog.resolveResource('test://x')).toMatchObject({ service: 'a', upstreamName: 'test://x' });
    expect(catalog.resolveResource('meshgate://b/test://x')).toMatchObject({ service: 'b', upstreamName: 'test://x' });
    expect(catalog.resolveResource('meshgate://a/test://x')).toMatchObject({ service: 'a', upstreamName: 'test://x' });
    expect(catalog.resolveResource('test://y')).toMatchObject({ service: 'b', upstreamName: 'test://y' });
  });

  it('routes an unlisted URI to the first service whose template matches it', () => {
    const catalog = Catalog.build([
      listing('a', { resourceTemplates: [template('users://{id}')] }),
      listing('b', { resourceTemplates: [template('items://{id}'), template('users://{id}')] }),
    ]);
    expect(catalog.resourceTemplates.items.map((t) => t.uriTemplate)).toEqual(['users://{id}', 'items://{id}', 'meshgate://b/users://{id}']);
    expect(catalog.resolveResource('items://7')).toMatchObject({ service: 'b', upstreamName: 'items://7' });
    expect(catalog.resolveResource('users://7')).toMatchObject({ service: 'a', upstreamName: 'users://7' });
    expect(catalog.resolveResource('meshgate://b/users://7')).toMatchObject({ service: 'b', upstreamName: 'users://7' });
    expect(catalog.resolveResource('nothing://7')).toBeUndefined();
    expect(catalog.resolveResource('meshgate://zzz/users://7')).toBeUndefined();
  });
});
