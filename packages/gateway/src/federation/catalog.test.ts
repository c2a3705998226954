import type { Tool } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { Catalog, type ServiceTools } from './catalog.js';
import { qualify, unqualify } from './naming.js';

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: 'object' }, ...extra });
const svc = (service: string, ...names: string[]): ServiceTools => ({ service, tools: names.map((n) => tool(n)), origin: 'live' });

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
    expect(catalog.tools.map((t) => t.name)).toEqual(['one', 'two', 'three']);
    expect(catalog.clashes).toEqual([]);
  });

  it('leaves the bare name with the first service and qualifies the newcomer', () => {
    const catalog = Catalog.build([svc('a', 'get'), svc('b', 'get')]);
    expect(catalog.tools.map((t) => t.name)).toEqual(['get', 'b__get']);
    expect(catalog.resolve('get')?.service).toBe('a');
    expect(catalog.resolve('b__get')).toMatchObject({ service: 'b', upstreamName: 'get' });
    expect(catalog.clashes).toEqual([{ name: 'get', owner: 'a', service: 'b', exposedAs: 'b__get' }]);
  });

  it('resolves every tool by its qualified name, the owner\'s too', () => {
    const catalog = Catalog.build([svc('a', 'get'), svc('b', 'get', 'put')]);
    expect(catalog.resolve('a__get')).toMatchObject({ service: 'a', upstreamName: 'get', exposedName: 'get' });
    expect(catalog.resolve('b__put')).toMatchObject({ service: 'b', upstreamName: 'put', exposedName: 'put' });
    expect(catalog.resolve('c__get')).toBeUndefined();
  });

  it('never lets a bare name shadow another service\'s qualified name', () => {
    // Service x has a tool literally named "y__z"; service y has "z". "y__z" must mean y's z.
    const catalog = Catalog.build([svc('x', 'y__z'), svc('y', 'z')]);
    expect(catalog.resolve('y__z')).toMatchObject({ service: 'y', upstreamName: 'z' });
    expect(catalog.resolve('x__y__z')).toMatchObject({ service: 'x', upstreamName: 'y__z' });
    expect(catalog.tools.map((t) => t.name)).toEqual(['x__y__z', 'z']);
  });

  it('passes definitions through untouched except the exposed name', () => {
    const original = tool('get', { description: 'd', inputSchema: { type: 'object', properties: { id: { type: 'string' } } }, _meta: { k: 1 } });
    const catalog = Catalog.build([svc('a', 'get'), { service: 'b', tools: [original], origin: 'fallback' }]);
    expect(catalog.tools[1]).toEqual({ ...original, name: 'b__get' });
    expect(catalog.resolve('b__get')?.origin).toBe('fallback');
    expect(original.name).toBe('get'); // the service's own definition is not mutated
  });

  it('ignores a name a service lists twice', () => {
    expect(Catalog.build([svc('a', 'get', 'get')]).tools).toHaveLength(1);
  });

  it('rebuilds to the same result for the same input (order is the only tie-breaker)', () => {
    const input = [svc('a', 'get'), svc('b', 'get'), svc('c', 'get')];
    expect(Catalog.build(input).tools).toEqual(Catalog.build(input).tools);
    expect(Catalog.build(input).tools.map((t) => t.name)).toEqual(['get', 'b__get', 'c__get']);
  });
});
