import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './lines.js';

function collect(maxBytes: number) {
  const lines: string[] = [];
  const skipped: { bytes: number; head: string }[] = [];
  const splitter = new LineSplitter(maxBytes, { line: (line) => lines.push(line), skipped: (bytes, head) => skipped.push({ bytes, head }) });
  return { splitter, lines, skipped };
}

describe('LineSplitter', () => {
  it('gives back the lines of any chunking of the stream, without blank lines or CRs', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z{}":, ]{1,20}$/), { maxLength: 20 }), fc.array(fc.nat(40)), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((line, index) => `${line}${index % 2 === 0 ? '\r\n' : '\n\n'}`).join(''));
        const { splitter, lines: seen } = collect(1024);
        let at = 0;
        for (const cut of cuts) {
          splitter.write(bytes.subarray(at, at + cut));
          at += cut;
        }
        splitter.write(bytes.subarray(at));
        splitter.end();
        expect(seen).toEqual(lines.filter((line) => line.trim() !== ''));
      }),
    );
  });

  it('keeps multi-byte characters split across chunks whole', () => {
    const { splitter, lines } = collect(1024);
    const bytes = Buffer.from('{"text":"héllo ✓"}\n');
    for (const byte of bytes) splitter.write(Buffer.from([byte]));
    expect(lines).toEqual(['{"text":"héllo ✓"}']);
  });

  it('drops a line over the limit as it streams, reports its length and first bytes, and reads the next line', () => {
    const { splitter, lines, skipped } = collect(1024);
    splitter.write(Buffer.from('{"jsonrpc":"2.0","id":7,"result":"'));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 160; i += 1) splitter.write(chunk); // 10 MiB, never held
    splitter.write(Buffer.from('"}\n{"after":true}\n'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.bytes).toBe(34 + 160 * 64 * 1024 + 2);
    expect(skipped[0]?.head.startsWith('{"jsonrpc":"2.0","id":7,')).toBe(true);
    expect(lines).toEqual(['{"after":true}']);
  });

  it('takes a last line without its newline at the end of the stream', () => {
    const { splitter, lines } = collect(1024);
    splitter.write(Buffer.from('one\ntwo'));
    splitter.end();
    expect(lines).toEqual(['one', 'two']);
  });
});
