import { describe, expect, it } from 'vitest';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { GatewayError } from '../errors.js';
import { MAX_TASKS, RELATED_TASK_META_KEY, TaskRouter } from './tasks.js';

const alice = { name: 'alice' } as GatewayIdentity;
const bob = { name: 'bob' } as GatewayIdentity;
const created = (taskId: string, ttl?: number) => ({ task: { taskId, status: 'working', ...(ttl === undefined ? {} : { ttl }) } });

describe('TaskRouter', () => {
  it("gives a created task the gateway's own id and routes it back to its service and upstream id", () => {
    const router = new TaskRouter();
    const result = router.created('billing', alice, 'session-1', created('t-1'));
    const id = (result['task'] as { taskId: string }).taskId;
    expect(id).not.toBe('t-1');
    expect(router.resolve(alice, { taskId: id })).toMatchObject({ service: 'billing', upstreamId: 't-1', owner: 'alice', session: 'session-1' });
    expect(router.idOf('billing', 't-1')).toBe(id);
  });

  it('passes a result that is not a created task through untouched', () => {
    const plain = { content: [{ type: 'text', text: 'done' }] };
    expect(new TaskRouter().created('billing', alice, undefined, plain)).toBe(plain);
  });

  it('tells another client, an unknown id and an expired task apart from nothing: all are unknown_task', () => {
    let now = 1_000;
    const router = new TaskRouter(() => now);
    const id = (router.created('billing', alice, undefined, created('t-1', 500))['task'] as { taskId: string }).taskId;
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as GatewayError).code;
      }
    };
    expect(code(() => router.resolve(bob, { taskId: id }))).toBe('unknown_task');
    expect(code(() => router.resolve(alice, { taskId: 'guess' }))).toBe('unknown_task');
    expect(code(() => router.resolve(alice, {}))).toBe('invalid_body');
    now += 501;
    expect(code(() => router.resolve(alice, { taskId: id }))).toBe('unknown_task');
    expect(router.owned(alice)).toEqual([]);
  });

  it("rewrites a service's taskId and related-task _meta to the gateway's id", () => {
    const router = new TaskRouter();
    const id = (router.created('billing', alice, undefined, created('t-9'))['task'] as { taskId: string }).taskId;
    const rewritten = router.rewrite('billing', { taskId: 't-9', status: 'completed', _meta: { [RELATED_TASK_META_KEY]: { taskId: 't-9' }, other: 1 } });
    expect(rewritten).toEqual({ taskId: id, status: 'completed', _meta: { [RELATED_TASK_META_KEY]: { taskId: id }, other: 1 } });
    expect(router.rewrite('other-service', { taskId: 't-9' })).toEqual({ taskId: 't-9' });
  });

  it('forgets the oldest task past its bound', () => {
    const router = new TaskRouter();
    const first = (router.created('s', alice, undefined, created('t-0'))['task'] as { taskId: string }).taskId;
    for (let i = 1; i <= MAX_TASKS; i += 1) router.created('s', alice, undefined, created(`t-${i}`));
    expect(router.get(first)).toBeUndefined();
    expect(router.owned(alice)).toHaveLength(MAX_TASKS);
  });
});
