import { describe, expect, it } from 'vitest';
import { CrashHistory, STABLE_AFTER_MS } from './supervisor.js';

describe('CrashHistory', () => {
  it('doubles the wait with each crash in a row, up to the maximum', () => {
    const history = new CrashHistory({ minMs: 250, maxMs: 5_000 });
    const waits = [1, 2, 3, 4, 5, 6, 7].map((n) => history.crashed('exited with code 1', 100, n));
    expect(waits).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('refuses a start until the wait has passed, saying why and for how long', () => {
    const history = new CrashHistory({ minMs: 1_000, maxMs: 5_000 });
    expect(history.refusal(0)).toBeUndefined();
    history.crashed('the command exited with code 3', 10, 10_000);
    expect(history.refusal(10_500)).toBe('the process ended (the command exited with code 3) once; restarting in 0.5 s');
    expect(history.refusal(11_000)).toBeUndefined();
  });

  it('starts counting again after a process that ran long enough to count as stable', () => {
    const history = new CrashHistory({ minMs: 100, maxMs: 10_000 });
    for (let n = 0; n < 5; n += 1) history.crashed('crash', 10, n);
    expect(history.crashed('crash after a long run', STABLE_AFTER_MS, 100)).toBe(100);
    expect(history.crashes).toBe(1);
  });
});
