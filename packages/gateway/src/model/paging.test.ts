import { describe, expect, it } from 'vitest';
import { ListView, paginate } from './paging.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
const walk = (items: string[], size: number) => {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = paginate(items, (x) => x, cursor, size);
    seen.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return seen;
};

describe('paginate', () => {
  it('serves a short list in one page without a cursor', () => {
    expect(paginate(names(3), (x) => x, undefined, 10)).toEqual({ items: names(3) });
  });

  it.each([1, 2, 3, 7, 10, 11])('a client following nextCursor sees every item exactly once (page size %i)', (size) => {
    expect(walk(names(10), size)).toEqual(names(10));
  });

  it('resumes after the last item served when the list changed in between', () => {
    const first = paginate(names(6), (x) => x, undefined, 3);
    expect(first.items).toEqual(['t0', 't1', 't2']);
    const changed = ['new', ...names(6)];
    expect(paginate(changed, (x) => x, first.nextCursor, 3).items).toEqual(['t3', 't4', 't5']);
    // The last item served is gone: resume at its old position, where the next one moved.
    const shrunk = names(6).filter((x) => x !== 't2');
    expect(paginate(shrunk, (x) => x, first.nextCursor, 3).items).toEqual(['t3', 't4', 't5']);
  });

  it.each([42, 'garbage', Buffer.from('{"after":1}').toString('base64url')])('rejects a cursor it did not issue (%s)', (cursor) => {
    expect(() => paginate(names(3), (x) => x, cursor, 2)).toThrow(/cursor/);
  });
});

describe('ListView', () => {
  const view = (items: string[], size: number) =>
    new ListView({ entries: items, keyOf: (x) => x, itemOf: (x) => x.toUpperCase(), key: 'tools', pageSize: size, whole: items.map((x) => x.toUpperCase()) });
  const walkView = (v: ListView<string, string>) => {
    const seen: unknown[] = [];
    let cursor: unknown;
    do {
      const page = v.page(cursor);
      seen.push(...(page['tools'] as unknown[]));
      cursor = page['nextCursor'];
    } while (cursor !== undefined);
    return seen;
  };

  it.each([1, 3, 7, 10, 11])('a client following nextCursor sees every item exactly once, as paginate serves them (page size %i)', (size) => {
    const v = view(names(10), size);
    expect(walkView(v)).toEqual(names(10).map((x) => x.toUpperCase()));
    expect(walkView(v)).toEqual(names(10).map((x) => x.toUpperCase()));
    let cursor: unknown;
    do {
      const expected = paginate(names(10), (x) => x, cursor, size);
      const page = v.page(cursor);
      expect(page).toEqual({ tools: expected.items.map((x) => x.toUpperCase()), ...(expected.nextCursor ? { nextCursor: expected.nextCursor } : {}) });
      cursor = page['nextCursor'];
    } while (cursor !== undefined);
  });

  it('builds each page once: the same frozen result (and array) on every request', () => {
    const v = view(names(10), 4);
    const first = v.page(undefined);
    expect(v.page(undefined)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first['tools'])).toBe(true);
    expect(v.page(first['nextCursor'])).toBe(v.page(first['nextCursor']));
  });

  it('answers a single page with the prebuilt whole array', () => {
    const whole = ['A', 'B'];
    const v = new ListView({ entries: ['a', 'b'], keyOf: (x) => x, itemOf: (x) => x, key: 'tools', pageSize: 5, whole });
    expect(v.page(undefined)['tools']).toBe(whole);
  });

  it('serves a cursor from an older list after its item, and keeps no page off the boundaries', () => {
    const old = paginate(names(6), (x) => x, undefined, 3);
    const v = view(['new', ...names(6)], 3);
    const resumed = v.page(old.nextCursor);
    expect(resumed['tools']).toEqual(['T3', 'T4', 'T5']);
    expect(v.page(old.nextCursor)).not.toBe(resumed);
    const shrunk = view(
      names(6).filter((x) => x !== 't2'),
      3,
    );
    expect(shrunk.page(old.nextCursor)['tools']).toEqual(['T3', 'T4', 'T5']);
  });

  it.each([42, 'garbage', Buffer.from('{"after":1}').toString('base64url')])('rejects a cursor it did not issue (%s)', (cursor) => {
    expect(() => view(names(3), 2).page(cursor)).toThrow(/cursor/);
  });
});
