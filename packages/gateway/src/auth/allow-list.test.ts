import { describe, expect, it } from 'vitest';
import { AllowList } from './allow-list.js';

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
