import { describe, expect, it } from 'vitest';
import { ago, cell, renderFields, renderTable } from './table.js';

describe('renderTable', () => {
  const rows = [
    { name: 'shopping-service', status: 'up', tools: 1 },
    { name: 'user', status: 'down', tools: 12 },
  ];
  const columns = [
    { header: 'NAME', value: (row: (typeof rows)[number]) => row.name },
    { header: 'STATUS', value: (row: (typeof rows)[number]) => row.status },
    { header: 'TOOLS', value: (row: (typeof rows)[number]) => row.tools },
  ];

  it('aligns every column to its widest cell, two spaces apart, with no trailing blanks', () => {
    expect(renderTable(rows, columns)).toBe(['NAME              STATUS  TOOLS', 'shopping-service  up      1', 'user              down    12', ''].join('\n'));
  });

  it('prints the empty text for no rows', () => {
    expect(renderTable([], columns, '(no services)')).toBe('(no services)\n');
  });

  it('cuts a cell at its column maximum with an ellipsis', () => {
    const table = renderTable([{ text: 'abcdefghij' }], [{ header: 'T', value: (row) => row.text, max: 5 }]);
    expect(table).toBe('T\nabcd…\n');
  });
});

describe('cell', () => {
  it.each([
    ['a string as it is', 'up', 'up'],
    ['null as a dash', null, '-'],
    ['undefined as a dash', undefined, '-'],
    ['an empty string as a dash', '', '-'],
    ['a number', 3, '3'],
    ['an object as JSON', { a: 1 }, '{"a":1}'],
    ['terminal escapes and newlines defused', 'evil\u001b[2J\nnext', 'evil [2J next'],
  ] as const)('%s', (_what, value, expected) => {
    expect(cell(value)).toBe(expected);
  });
});

describe('renderFields', () => {
  it('aligns the values after the longest key', () => {
    expect(
      renderFields([
        ['URL', 'http://x'],
        ['Status', 'up'],
      ]),
    ).toBe('URL:    http://x\nStatus: up\n');
  });
});

describe('ago', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it.each([
    ['2026-01-01T11:59:48Z', '12s ago'],
    ['2026-01-01T11:55:00Z', '5m ago'],
    ['2026-01-01T09:00:00Z', '3h ago'],
    ['2025-12-30T12:00:00Z', '2d ago'],
    ['2026-01-01T12:00:05Z', '0s ago'],
  ])('%s is %s', (iso, expected) => {
    expect(ago(iso, now)).toBe(expected);
  });
  it('shows a dash for nothing and the text for something that is not a time', () => {
    expect(ago(null, now)).toBe('-');
    expect(ago('soon', now)).toBe('soon');
  });
});
