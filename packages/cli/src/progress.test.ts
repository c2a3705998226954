import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startProgress, withProgress } from './progress.js';

function stream(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(out, { isTTY, text: () => text });
}

describe('progress', () => {
  it('draws nothing when stderr is not a terminal', async () => {
    const out = stream(false);
    expect(await withProgress(out, 'waiting', async () => 42)).toBe(42);
    expect(out.text()).toBe('');
  });

  it('draws one line on a terminal and clears it when done, however the work ends', async () => {
    const out = stream(true);
    await expect(withProgress(out, 'registering', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(out.text()).toContain('registering');
    expect(out.text().endsWith('\r\u001b[2K')).toBe(true);
  });

  it('keeps the outer line while inner work waits', () => {
    const out = stream(true);
    const outer = startProgress(out, 'outer');
    const inner = startProgress(out, 'inner');
    inner.stop();
    outer.stop();
    expect(out.text()).not.toContain('inner');
  });
});
