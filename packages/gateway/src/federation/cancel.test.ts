import { describe, expect, it } from 'vitest';
import { Cancellation } from './cancel.js';

describe('Cancellation', () => {
  it('tells each listener once, in order, and only the first abort counts', () => {
    const cancel = new Cancellation();
    const heard: string[] = [];
    cancel.signal.addEventListener('abort', () => heard.push('a'), { once: true });
    cancel.signal.addEventListener('abort', () => heard.push('b'));
    expect(cancel.signal.aborted).toBe(false);
    cancel.abort();
    cancel.abort();
    expect(heard).toEqual(['a', 'b']);
    expect(cancel.aborted).toBe(true);
  });

  it('a removed listener is not told; a listener added after the abort is not called', () => {
    const cancel = new Cancellation();
    const heard: string[] = [];
    const gone = () => heard.push('removed');
    cancel.addEventListener('abort', gone);
    cancel.addEventListener('abort', () => heard.push('kept'));
    cancel.removeEventListener('abort', gone);
    cancel.removeEventListener('abort', () => undefined);
    cancel.abort();
    cancel.addEventListener('abort', () => heard.push('late'));
    expect(heard).toEqual(['kept']);
  });

  it('a listener that aborts again or removes itself while being told changes nothing', () => {
    const cancel = new Cancellation();
    const heard: string[] = [];
    const first = () => {
      heard.push('first');
      cancel.removeEventListener('abort', first);
      cancel.abort();
    };
    cancel.addEventListener('abort', first);
    cancel.addEventListener('abort', () => heard.push('second'));
    cancel.abort();
    expect(heard).toEqual(['first', 'second']);
  });
});
