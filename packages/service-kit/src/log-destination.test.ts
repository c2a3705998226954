import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { stdoutDestination } from './log-destination.js';

/** A sink whose backlog the test sets, recording what is written. */
function fakeSink() {
  const events = new EventEmitter();
  const sink = {
    writableLength: 0,
    written: [] as string[],
    write(chunk: string) {
      sink.written.push(chunk);
      return true;
    },
    on: (event: 'error', listener: (error: NodeJS.ErrnoException) => void) => events.on(event, listener),
    fail: (code: string) => events.emit('error', Object.assign(new Error(code), { code })),
  };
  return sink;
}

describe('stdoutDestination', () => {
  it('writes lines while the reader keeps up', () => {
    const sink = fakeSink();
    const destination = stdoutDestination(sink, 100);
    destination.write('{"msg":"one"}\n');
    expect(sink.written).toEqual(['{"msg":"one"}\n']);
    expect(destination.dropped).toBe(0);
  });

  it('past the backlog bound drops lines, and says how many once the reader catches up', () => {
    const sink = fakeSink();
    const destination = stdoutDestination(sink, 100);
    sink.writableLength = 101;
    for (let i = 0; i < 5; i += 1) destination.write('{"msg":"flood"}\n');
    expect(sink.written).toEqual([]);
    sink.writableLength = 0;
    destination.write('{"msg":"after"}\n');
    expect(sink.written).toHaveLength(2);
    expect(JSON.parse(sink.written[0] ?? '{}')).toMatchObject({ level: 40, msg: '5 log lines dropped: nobody was reading the log' });
    expect(sink.written[1]).toBe('{"msg":"after"}\n');
    expect(destination.dropped).toBe(5);
  });

  it('stops writing once the reader is gone (EPIPE), without throwing', () => {
    const sink = fakeSink();
    const destination = stdoutDestination(sink, 100);
    sink.fail('EPIPE');
    expect(() => destination.write('{"msg":"late"}\n')).not.toThrow();
    expect(sink.written).toEqual([]);
    expect(destination.dropped).toBe(1);
  });
});
