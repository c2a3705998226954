import { describe, expect, it } from 'vitest';
import { AllowList } from '../auth/allow-list.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import { Catalog, EMPTY_LISTINGS } from '../model/catalog.js';
import { VirtualServer } from './virtual-servers.js';
import { sessionMaySee } from './visibility.js';

const tool = (name: string) => ({ name, inputSchema: { type: 'object' as const } });
const catalog = Catalog.build([
  { service: 'shop', listings: { ...EMPTY_LISTINGS, tools: [tool('buy')] }, origin: 'live' },
  { service: 'users', listings: { ...EMPTY_LISTINGS, tools: [tool('whoami')] }, origin: 'live' },
]);
const everyone: GatewayIdentity = { name: 'a', roles: new Set(['client']) };
const shopOnly: GatewayIdentity = { name: 'b', roles: new Set(['client']), allowList: new AllowList(['buy']) };

describe('sessionMaySee', () => {
  const view = new VirtualServer({ name: 'users', tools: ['users__*'], source: 'config', createdAt: '', updatedAt: '' }).view(catalog).catalog;

  it('on /mcp: every service, or those the allow-list lets the identity use', () => {
    expect(sessionMaySee(catalog, false, everyone, 'shop')).toBe(true);
    expect(sessionMaySee(catalog, false, shopOnly, 'users')).toBe(false);
  });

  it('on a virtual server: only the services its view holds, intersected with the allow-list; nothing once it is deleted', () => {
    expect(sessionMaySee(view, true, everyone, 'users')).toBe(true);
    expect(sessionMaySee(view, true, everyone, 'shop')).toBe(false);
    expect(sessionMaySee(view, true, shopOnly, 'users')).toBe(false);
    expect(sessionMaySee(undefined, true, everyone, 'users')).toBe(false);
  });
});
