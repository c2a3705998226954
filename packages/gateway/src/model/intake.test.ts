import { describe, expect, it } from 'vitest';
import { EMPTY_LISTINGS } from './catalog.js';
import { checkListings } from './intake.js';

describe('checkListings', () => {
  it('keeps valid items exactly as sent, unknown fields included, and rejects the rest with kind, name and reason', () => {
    const good = { name: 'ok', inputSchema: { type: 'object' }, 'x-vendor': { keep: true } };
    const { listings, rejected } = checkListings({
      ...EMPTY_LISTINGS,
      tools: [good, { name: 42, inputSchema: { type: 'object' } }, { name: 'bad\nname', inputSchema: { type: 'array' } }] as never,
      prompts: [{ name: 'p' }, { title: 'no name' }] as never,
    });
    expect(listings.tools).toEqual([good]);
    expect(listings.tools[0]).toBe(good);
    expect(listings.prompts).toEqual([{ name: 'p' }]);
    expect(rejected).toEqual([
      { kind: 'tool', reason: expect.stringMatching(/^name: /) },
      { kind: 'tool', name: 'bad?name', reason: expect.stringMatching(/^inputSchema\.type: /) },
      { kind: 'prompt', reason: expect.stringMatching(/^name: /) },
    ]);
  });

  it('passes an empty or fully valid listing through with nothing rejected', () => {
    expect(checkListings(EMPTY_LISTINGS).rejected).toEqual([]);
  });
});
