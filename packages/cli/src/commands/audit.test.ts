import { describe, expect, it } from 'vitest';
import { auditItems, auditPath } from './audit.js';

describe('auditPath', () => {
  it('passes the filters given as query parameters of the same names, nothing else', () => {
    expect(auditPath({})).toBe('/audit');
    expect(auditPath({ service: 'shopping-service', limit: '5', json: true, since: '' })).toBe('/audit?service=shopping-service&limit=5');
    expect(auditPath({ tool: 'a b&c' })).toBe('/audit?tool=a+b%26c');
  });
  it('takes a bare date for --since as its first instant, UTC', () => {
    expect(auditPath({ since: '2026-01-01' })).toBe('/audit?since=2026-01-01T00%3A00%3A00Z');
    expect(auditPath({ since: '2026-01-01T10:00:00+02:00' })).toBe('/audit?since=2026-01-01T10%3A00%3A00%2B02%3A00');
  });
});

describe('auditItems', () => {
  it("takes the gateway's {entries: [...]}, keeping objects only", () => {
    expect(auditItems({ entries: [{ kind: 'tool.call' }, 'junk', null] })).toEqual([{ kind: 'tool.call' }]);
  });
  it('refuses anything else, saying the gateway may be newer', () => {
    expect(() => auditItems([{ kind: 'x' }])).toThrow(/without \{entries: \[\.\.\.\]\}/);
  });
});
