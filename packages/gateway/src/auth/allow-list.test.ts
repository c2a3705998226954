import { describe, expect, it } from 'vitest';
import { AllowList, selectorProblem } from './allow-list.js';

const product = { service: 'shopping-service', upstreamName: 'getProductById', exposedName: 'getProductById' };
const renamed = { service: 'other', upstreamName: 'getProductById', exposedName: 'other__getProductById' };
const user = { service: 'user-service', upstreamName: 'getUserById', exposedName: 'getUserById' };

describe('AllowList', () => {
  it('allows by exposed name', () => {
    const list = new AllowList(['getProductById']);
    expect(list.allows(product)).toBe(true);
    expect(list.allows(user)).toBe(false);
    // The newcomer's tool of the same upstream name is exposed under another name: not allowed.
    expect(list.allows(renamed)).toBe(false);
  });

  it('allows by qualified name, whatever the tool is exposed as', () => {
    const list = new AllowList(['other__getProductById']);
    expect(list.allows(renamed)).toBe(true);
    expect(list.allows(product)).toBe(false);
  });

  it('allows every tool of a service with <service>__*', () => {
    const list = new AllowList(['user-service__*']);
    expect(list.allows(user)).toBe(true);
    expect(list.allows(product)).toBe(false);
  });

  it('allows a tool an override renamed by its new name, bare or qualified, and by its upstream qualified name', () => {
    const say = { service: 'user-service', upstreamName: 'echo', surfacedName: 'say', exposedName: 'say' };
    for (const entry of ['say', 'user-service__say', 'user-service__echo']) expect(new AllowList([entry]).allows(say), entry).toBe(true);
    expect(new AllowList(['echo']).allows(say)).toBe(false);
  });

  it('an empty list allows nothing', () => {
    expect(new AllowList([]).allows(product)).toBe(false);
  });
});

describe('AllowList selectors: globs and annotations', () => {
  const readOnly = { ...user, item: { name: 'getUserById', annotations: { readOnlyHint: true, destructiveHint: false } } };
  const deleting = {
    service: 'user-service',
    upstreamName: 'deleteUser',
    exposedName: 'deleteUser',
    item: { name: 'deleteUser', annotations: { destructiveHint: true } },
  };

  it('a glob matches exposed and qualified names, with * and ? only', () => {
    expect(new AllowList(['*User*']).allows(user)).toBe(true);
    expect(new AllowList(['*User*']).allows(product)).toBe(false);
    expect(new AllowList(['user-service__get*']).allows(user)).toBe(true);
    expect(new AllowList(['user-service__get*']).allows(deleting)).toBe(false);
    expect(new AllowList(['getUserB?Id']).allows(user)).toBe(true);
    // Regex characters are literal: "." matches only a dot.
    expect(new AllowList(['get.serById']).allows(user)).toBe(false);
  });

  it('an annotation selector reads the item, true unless "=false"', () => {
    expect(new AllowList(['@readOnlyHint']).allows(readOnly)).toBe(true);
    expect(new AllowList(['@readOnlyHint']).allows(deleting)).toBe(false);
    expect(new AllowList(['@destructiveHint=false']).allows(readOnly)).toBe(true);
    expect(new AllowList(['@destructiveHint=false']).allows(deleting)).toBe(false);
    // Without the item nothing is known of its annotations: not allowed.
    expect(new AllowList(['@readOnlyHint']).allows(user)).toBe(false);
  });

  it('names what is wrong with a selector', () => {
    expect(selectorProblem('@')).toMatch(/annotation selector/);
    expect(selectorProblem('')).toBe('is empty');
    expect(selectorProblem('user-service__*')).toBeUndefined();
  });
});
