import { describe, expect, it } from 'vitest';
import { AllowList } from '../auth/allow-list.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { Registry } from '../registry/registry.js';
import { gatewayInstructions, INSTRUCTIONS, MAX_SERVICE_INSTRUCTIONS } from './capabilities.js';

/** Just what gatewayInstructions reads of a registry: its services and its catalog's entries. */
function registryOf(services: Record<string, string | undefined>): Registry {
  const entries = Object.keys(services).map((service) => ({ service, upstreamName: 'tool', exposedName: `${service}__tool` }));
  return {
    list: () => Object.entries(services).map(([name, instructions]) => ({ record: { name }, connection: { instructions } })),
    catalog: { tools: { entries }, prompts: { entries: [] }, resources: { entries: [] }, resourceTemplates: { entries: [] } },
  } as unknown as Registry;
}
const anyone = { name: 'ops', roles: new Set(['client']) } as unknown as GatewayIdentity;

describe('gatewayInstructions', () => {
  it("adds each service's instructions under its name, after the gateway's own", () => {
    const text = gatewayInstructions(registryOf({ billing: 'Amounts are in cents.', quiet: undefined, users: 'Ids are numeric.' }), anyone);
    expect(text).toBe(`${INSTRUCTIONS}\n\n## billing\nAmounts are in cents.\n\n## users\nIds are numeric.`);
  });

  it('tells a token with an allow-list nothing of the services it cannot use', () => {
    const limited = { ...anyone, allowList: new AllowList(['users__*']) } as GatewayIdentity;
    const text = gatewayInstructions(registryOf({ billing: 'secret plans', users: 'Ids are numeric.' }), limited);
    expect(text).toContain('## users');
    expect(text).not.toContain('billing');
  });

  it('removes invisible characters and cuts a long text, which the service controls', () => {
    const hostile = `look\u202e here\u200b\u0007${'x'.repeat(MAX_SERVICE_INSTRUCTIONS * 2)}`;
    const section = gatewayInstructions(registryOf({ evil: hostile }), anyone).split('## evil\n')[1] ?? '';
    expect(section.startsWith('look here')).toBe(true);
    expect(section.length).toBe(MAX_SERVICE_INSTRUCTIONS + 1);
  });
});
