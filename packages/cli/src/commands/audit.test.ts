import { describe, expect, it } from 'vitest';
import { renderTable } from '../table.js';
import { auditColumns, auditItems, auditPath } from './audit.js';

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

describe('auditColumns', () => {
  it('shows the known columns that have data', () => {
    const items = [{ time: 't', identity: 'ops', tool: 'getUserById', outcome: 'ok' }];
    expect(auditColumns(items).map((column) => column.header)).toEqual(['TIME', 'IDENTITY', 'TOOL', 'OUTCOME']);
  });
  it("falls back to the entries' own keys when they use other names", () => {
    const items = [{ when: '2026-01-01', who: 'ops', what: 'tools/call' }];
    expect(renderTable(items, auditColumns(items))).toBe('WHEN        WHO  WHAT\n2026-01-01  ops  tools/call\n');
  });
});
