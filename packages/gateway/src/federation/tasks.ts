import { randomUUID } from 'node:crypto';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';

/** The `_meta` key naming the task a message belongs to (2025-11-25). */
export const RELATED_TASK_META_KEY = 'io.modelcontextprotocol/related-task';

/** How long a task is routed when the service gave it no `ttl`. */
export const DEFAULT_TASK_TTL_MS = 60 * 60 * 1_000;
/** Tasks routed at once; the oldest is forgotten past this. */
export const MAX_TASKS = 10_000;

/** One task a service created for a call made through the gateway. */
export interface RoutedTask {
  readonly service: string;
  /** The service's own id for it. */
  readonly upstreamId: string;
  /** Who created it: only they may ask about it. */
  readonly owner: string;
  /** The session it was created in, to hear its status notifications; undefined when sessionless. */
  readonly session: string | undefined;
  expiresAt: number;
}

/**
 * Where the tasks of calls made through the gateway live (MCP tasks, 2025-11-25): a
 * `tools/call` with `task` makes the service create one, and every `tasks/*` request about
 * it must reach that service. Clients see task ids of the gateway's own, random and bound
 * to the identity that created the task: ids of two services cannot collide, and one
 * client cannot read another's results by guessing an id.
 */
export class TaskRouter {
  readonly #tasks = new Map<string, RoutedTask>();
  /** The gateway id of each service's task, by `service \0 upstream id`. */
  readonly #byUpstream = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Takes the result of a forwarded `tools/call`: a `CreateTaskResult` is recorded, and
   * returned with the gateway's id in place of the service's. Any other result is returned as it is.
   */
  created(service: string, identity: GatewayIdentity, session: string | undefined, result: Record<string, unknown>): Record<string, unknown> {
    const task = result['task'];
    if (typeof task !== 'object' || task === null || typeof (task as { taskId?: unknown }).taskId !== 'string') return result;
    const upstreamId = (task as { taskId: string }).taskId;
    const ttl = (task as { ttl?: unknown }).ttl;
    const id = randomUUID();
    this.#sweep();
    this.#tasks.set(id, {
      service,
      upstreamId,
      owner: identity.name,
      session,
      expiresAt: this.now() + (typeof ttl === 'number' && ttl > 0 ? ttl : DEFAULT_TASK_TTL_MS),
    });
    this.#byUpstream.set(`${service}\0${upstreamId}`, id);
    return { ...result, task: { ...task, taskId: id } };
  }

  /** The task `params.taskId` names, if `identity` created it; else `unknown_task` (the same for all: nothing is revealed). */
  resolve(identity: GatewayIdentity, params: Record<string, unknown> | undefined): RoutedTask & { id: string } {
    const id = params?.['taskId'];
    if (typeof id !== 'string' || id === '') throw new GatewayError('invalid_body', 'Invalid params: a tasks request needs "taskId", a non-empty string');
    const task = this.#tasks.get(id);
    if (task === undefined || task.owner !== identity.name || task.expiresAt <= this.now()) {
      throw new GatewayError('unknown_task', `Unknown task "${id}": it expired, or was not created through this gateway by this client`, { taskId: id });
    }
    return { ...task, id };
  }

  /** The gateway's id for a service's task, if it is routed here. */
  idOf(service: string, upstreamId: string): string | undefined {
    return this.#byUpstream.get(`${service}\0${upstreamId}`);
  }

  get(id: string): RoutedTask | undefined {
    return this.#tasks.get(id);
  }

  /** The tasks of `identity`, newest last. */
  owned(identity: GatewayIdentity): Array<RoutedTask & { id: string }> {
    const now = this.now();
    const mine: Array<RoutedTask & { id: string }> = [];
    for (const [id, task] of this.#tasks) if (task.owner === identity.name && task.expiresAt > now) mine.push({ ...task, id });
    return mine;
  }

  /** A service's message about one of its tasks, with the gateway's id in place of the service's (`taskId` and related-task `_meta`). */
  rewrite(service: string, message: Record<string, unknown>): Record<string, unknown> {
    let out = message;
    const taskId = message['taskId'];
    if (typeof taskId === 'string') {
      const id = this.idOf(service, taskId);
      if (id !== undefined) out = { ...out, taskId: id };
    }
    const meta = message['_meta'] as Record<string, unknown> | undefined;
    const related = meta?.[RELATED_TASK_META_KEY] as { taskId?: unknown } | undefined;
    if (typeof related?.taskId === 'string') {
      const id = this.idOf(service, related.taskId);
      if (id !== undefined) out = { ...out, _meta: { ...meta, [RELATED_TASK_META_KEY]: { ...related, taskId: id } } };
    }
    return out;
  }

  /** Forgets expired tasks, and the oldest past MAX_TASKS. */
  #sweep(): void {
    const now = this.now();
    for (const [id, task] of this.#tasks) {
      if (task.expiresAt > now && this.#tasks.size < MAX_TASKS) break;
      this.#tasks.delete(id);
      this.#byUpstream.delete(`${task.service}\0${task.upstreamId}`);
    }
  }
}
