import { describe, expect, it } from 'vitest';
import { auditItems, auditPath } from './audit.js';

describe('auditPath', () => {
  it('passes the filters given as query parameters of the same names, nothing else', () => {
    expect(auditPath({})).toBe('/audit');
    expect(auditPath({ service: 'shopping-service', limit: '5', json: true, since: '' })).toBe('/audit?service=shopping-service&limit=5');
    expect(auditPath({ tool: 'a b&c' })).toBe('/audit?tool=a+b%26c');
  });
});

describe('auditItems', () => {
  it('takes a JSON array or {items: [...]}', () => {
    expect(auditItems([{ tool: 'x' }])).toEqual([{ tool: 'x' }]);
    expect(auditItems({ items: [{ tool: 'y' }, 'junk', null] })).toEqual([{ tool: 'y' }]);
  });
  it('refuses anything else, saying the gateway may be newer', () => {
    expect(() => auditItems({ entries: [] })).toThrow(/neither a list nor \{items: \[\.\.\.\]\}/);
  });
});
