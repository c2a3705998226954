import type { Tool } from '@modelcontextprotocol/server';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Catalog, EMPTY_LISTINGS, type ServiceListings } from './catalog.js';
import { isSafeToolName, SAFE_TOOL_NAME, toolAlias } from './naming.js';

const serviceName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
/** Tool names as services send them: mostly plain, sometimes long, with spaces, dots, unicode or a qualified form. */
const toolName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9_-]{1,70}$/),
  fc.string({ minLength: 1, maxLength: 120 }),
  fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
  fc.tuple(serviceName, fc.stringMatching(/^[a-z]{1,80}$/)).map(([service, name]) => `${service}__${name}`),
);
const tool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });
const federation = fc
  .uniqueArray(fc.tuple(serviceName, fc.uniqueArray(toolName, { minLength: 1, maxLength: 8 })), {
    minLength: 1,
    maxLength: 5,
    selector: ([service]) => service,
  })
  .map((services) =>
    services.map(([service, names]): ServiceListings => ({ service, listings: { ...EMPTY_LISTINGS, tools: names.map(tool) }, origin: 'live' })),
  );

describe('safe tool names', () => {
  it('an alias is always safe, and depends only on the service and the name', () => {
    fc.assert(
      fc.property(serviceName, toolName, (service, name) => {
        const alias = toolAlias(service, name, `${service}__${name}`);
        expect(alias).toMatch(SAFE_TOOL_NAME);
        expect(toolAlias(service, name, `${service}__${name}`)).toBe(alias);
      }),
    );
  });

  it('aliases of different tools differ (the digest covers the service and the whole name)', () => {
    fc.assert(
      fc.property(serviceName, toolName, toolName, (service, a, b) => {
        fc.pre(a !== b);
        const long = (name: string) => `${name}${'y'.repeat(70)}`;
        expect(toolAlias(service, long(a))).not.toBe(toolAlias(service, long(b)));
        expect(toolAlias(service, long(a))).not.toBe(toolAlias(`${service}x`, long(a)));
      }),
    );
  });

  it('every exposed tool name of any federation is safe and unique, and routes back to exactly its service and upstream name', () => {
    fc.assert(
      fc.property(federation, (services) => {
        const catalog = Catalog.build(services);
        const exposed = catalog.tools.entries.map((entry) => entry.exposedName);
        expect(new Set(exposed).size).toBe(exposed.length);
        for (const entry of catalog.tools.entries) {
          expect(entry.exposedName).toMatch(SAFE_TOOL_NAME);
          expect(entry.item.name).toBe(entry.exposedName);
          expect(catalog.tools.resolve(entry.exposedName)).toMatchObject({ service: entry.service, upstreamName: entry.upstreamName });
          expect(entry.aliased === true).toBe(
            !isSafeToolName(entry.upstreamName) || (entry.exposedName !== entry.upstreamName && !isSafeToolName(`${entry.service}__${entry.upstreamName}`)),
          );
        }
        // Stable: the same federation built again (another replica, a restart) exposes the same names.
        expect(Catalog.build(services).tools.entries.map((entry) => entry.exposedName)).toEqual(exposed);
      }),
    );
  });

  it('leaves a safe name as it is and aliases a long one as a readable prefix and a digest', () => {
    const long = `get_${'a'.repeat(96)}`;
    const catalog = Catalog.build([{ service: 'svc', listings: { ...EMPTY_LISTINGS, tools: [tool('plain'), tool(long), tool('has space')] }, origin: 'live' }]);
    const [plain, aliased, spaced] = catalog.tools.entries;
    expect(plain).toMatchObject({ exposedName: 'plain', upstreamName: 'plain' });
    expect(plain).not.toHaveProperty('aliased');
    expect(aliased?.exposedName).toMatch(/^get_a{49}_[0-9a-f]{10}$/);
    expect(aliased).toMatchObject({ upstreamName: long, aliased: true });
    expect(spaced?.exposedName).toMatch(/^has_space_[0-9a-f]{10}$/);
  });
});
