import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditEntry, AuditPage, AuditQuery, RegistryStore } from '../registry/types.js';
import type { AuditArguments } from './settings.js';

/** An entry as a call leaves it: its arguments still raw, digested only when written. */
export interface PendingAuditEntry extends Omit<AuditEntry, 'seq' | 'detail'> {
  /** The call's arguments (`params.arguments`, or the resource URI's params), as the client sent them. */
  args?: unknown;
  detail?: Record<string, unknown> | null;
}

/** How long an entry may wait for its batch to be written; the window a SIGKILL can lose. */
const FLUSH_DELAY_MS = 20;
/** Entries that make a batch be written at once. */
const BATCH_SIZE = 256;
/** Entries kept in memory while the store fails; beyond it the oldest are dropped, with an error logged. */
const MAX_BACKLOG = 50_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The durable audit log. A call only pushes its entry to a queue (no digest, no I/O on the
 * call path); the queue is written to the store in batches, one transaction each, within
 * 20 ms, and at once on `flush` and `close`, so a clean shutdown loses nothing and a
 * SIGKILL at most the last 20 ms. Retention runs at start and hourly: by age and by count.
 */
export class AuditLog {
  #queue: PendingAuditEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #pruner: NodeJS.Timeout | undefined;
  #closed = false;
  #failing = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly options: { arguments: AuditArguments; retentionMs: number; maxEntries: number },
    private readonly logger: Logger,
  ) {}

  /** Prunes once now, then hourly. */
  start(): void {
    void this.prune();
    this.#pruner = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.#pruner.unref();
  }

  /** Queues one entry; never throws, never waits. */
  record(entry: PendingAuditEntry): void {
    if (this.#closed) return;
    this.#queue.push(entry);
    if (this.#queue.length > MAX_BACKLOG) {
      this.#queue.splice(0, this.#queue.length - MAX_BACKLOG);
      this.logger.error({ kept: MAX_BACKLOG }, 'audit backlog full (the store keeps failing): dropping the oldest entries');
    }
    if (this.#queue.length >= BATCH_SIZE) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Writes everything queued so far; resolves once it is in the store (or the store failed, logged). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    if (batch.length === 0) return this.#writing;
    this.#queue = [];
    // Chained: batches reach the store in the order their entries were recorded.
    this.#writing = this.#writing.then(() => this.#write(batch));
    return this.#writing;
  }

  /** Entries matching `query`, after writing what is queued (a caller sees its own last call). */
  async query(query: AuditQuery): Promise<AuditPage> {
    await this.flush();
    return this.store.queryAudit(query);
  }

  async prune(): Promise<void> {
    const olderThan = new Date(Date.now() - this.options.retentionMs).toISOString();
    try {
      const removed = await this.store.pruneAudit({ olderThan, keep: this.options.maxEntries });
      if (removed > 0) this.logger.info({ removed, olderThan, keep: this.options.maxEntries }, 'audit entries past retention deleted');
    } catch (error) {
      this.logger.error({ err: error }, 'audit retention failed');
    }
  }

  /** Writes the queue and stops; call before the store closes. */
  async close(): Promise<void> {
    clearInterval(this.#pruner);
    await this.flush();
    this.#closed = true;
  }

  async #write(batch: PendingAuditEntry[]): Promise<void> {
    const entries = batch.map((entry) => this.#finish(entry));
    try {
      await this.store.appendAudit(entries);
      if (this.#failing) this.logger.info('audit log writes again');
      this.#failing = false;
    } catch (error) {
      // Kept for the next batch rather than lost: the store may be back by then.
      if (!this.#failing) this.logger.error({ err: error, entries: entries.length }, 'audit log write failed; will retry with the next batch');
      this.#failing = true;
      if (!this.#closed) this.#queue.unshift(...batch);
    }
  }

  #finish(pending: PendingAuditEntry): AuditEntry {
    const { args, detail, ...entry } = pending;
    const mode = this.options.arguments;
    let full: Record<string, unknown> | null = detail ?? null;
    if (args !== undefined && mode !== 'none') {
      const shown = mode === 'full' ? { arguments: args } : { argumentsDigest: digestOf(args) };
      full = { ...full, ...shown };
    }
    return { ...entry, detail: full };
  }
}

/** `sha256:<hex>` of the arguments' JSON as the client sent them (key order included). */
export function digestOf(value: unknown): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(value) ?? 'null')
    .digest('hex')}`;
}
