import { describe, expect, it } from 'vitest';
import { paginate } from './paging.js';

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
