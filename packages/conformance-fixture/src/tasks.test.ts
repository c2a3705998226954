import { inputRequired } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskStore } from './tasks.js';

const ask = (message: string) => inputRequired.elicit({ message, requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } });

/** Resolves once `check` holds, re-checking on each macrotask (no timed waits). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((wake) => setImmediate(wake));
}

describe('TaskStore', () => {
  const store = new TaskStore();
  afterEach(() => store.close());

  it('keeps a task in input_required until every pending request is answered, then completes it', async () => {
    const task = store.start(async (job) => {
      const answers = await job.ask({ first: ask('first?'), second: ask('second?') });
      return { content: [{ type: 'text', text: `answered ${Object.keys(answers).sort().join(',')}` }] };
    });
    await until(() => task.status === 'input_required');
    expect([...task.pending.keys()]).toEqual(['first', 'second']);

    store.update(task.taskId, { first: { action: 'accept', content: { ok: true } }, stranger: { action: 'accept' } });
    expect(task.status).toBe('input_required');
    expect([...task.pending.keys()]).toEqual(['second']);

    store.update(task.taskId, { second: { action: 'accept', content: { ok: false } } });
    await until(() => task.status === 'completed');
    expect(task.result).toEqual({ content: [{ type: 'text', text: 'answered first,second' }] });
  });

  it('fails a task whose work throws, with an inlined JSON-RPC error and no result', async () => {
    const task = store.start(async () => {
      throw new Error('worker crashed');
    });
    await until(() => task.status === 'failed');
    expect(task.error).toEqual({ code: -32603, message: 'worker crashed' });
    expect(task.result).toBeUndefined();
  });

  it('cancels a live task, keeps it cancelled when its work finishes late, and treats a second cancel as a no-op', async () => {
    let finish: () => void = () => {};
    const task = store.start(
      (job) =>
        new Promise((resolve) => {
          finish = () => resolve({ content: [{ type: 'text', text: 'too late' }] });
          expect(job.signal.aborted).toBe(false);
        }),
    );
    store.cancel(task.taskId);
    expect(task.status).toBe('cancelled');
    expect(task.abort.signal.aborted).toBe(true);
    finish();
    await new Promise((wake) => setImmediate(wake));
    expect(task.status).toBe('cancelled');
    expect(task.result).toBeUndefined();
    expect(() => store.cancel(task.taskId)).not.toThrow();
  });

  it('answers -32602 naming the taskId for a task it never created', () => {
    expect(() => store.get('no-such-task')).toThrow(expect.objectContaining({ code: -32602, message: expect.stringContaining('no-such-task') }));
  });
});
