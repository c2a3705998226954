import { randomBytes, randomUUID } from 'node:crypto';
import {
  createRequestStateCodec,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../../auth/tokens.js';
import { Cancellation } from '../../federation/cancel.js';
import type { Result } from '../../federation/context.js';
import type { Downstream } from '../../upstream/relay.js';

/** The methods whose 2026-07-28 results may be `input_required` (the multi-round-trip requests). */
export const INPUT_REQUIRED_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** How long the gateway holds a call waiting for the client's retry after an `input_required` answer. */
export const INPUT_ROUND_TTL_MS = 60_000;
/** Calls held waiting for a retry at most; past it a service's request is refused, not held. */
export const MAX_HELD_CALLS = 1_000;
/** How long the gateway gathers a service's requests into one round (they are often sent together). */
const GATHER_MS = 5;

/** The client capability each input request needs (the SDK's `input_required` capability gate). */
const NEEDS: Record<string, string> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation', 'roots/list': 'roots' };

/** What the sealed `requestState` carries: the held call and its round (a round's state answers once). */
interface StatePayload {
  x: string;
  r: number;
}

interface Binding {
  binding: string;
}

/** One step of a held call, for the request that waits on it. */
export type Step = { kind: 'complete'; result: Result } | { kind: 'failed'; error: unknown } | { kind: 'input'; requests: Record<string, unknown> };

interface Waiting {
  method: string;
  params: Record<string, unknown> | undefined;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/**
 * One call of a 2026-07-28 client to a service, held across its rounds: the service's
 * requests during the call (sampling, elicitation, roots: the gateway speaks the 2025 revision
 * to services) wait here for the client's answers, which come in the retry of the request.
 * It is the call's Downstream; notifications go to the HTTP request now waiting on it.
 */
export class HeldCall implements Downstream {
  #id: string | undefined;
  readonly abort = new Cancellation();
  round = 0;
  /** Set once an `input_required` answer went out: from then on the call outlives its HTTP requests. */
  held = false;
  /** The client capabilities its current request declared (each round's request carries its own). */
  capabilities: Record<string, unknown> = {};
  /** Where notifications go now (the HTTP request waiting on the call), if any. */
  current: Downstream | undefined;
  /** The service's requests waiting for the client, by key; made on the first (most calls have none). */
  #waitingMap: Map<string, Waiting> | undefined;
  #next = 0;
  #outcome: Step | undefined;
  #wake: ((step: Step) => void) | undefined;
  #gather: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;

  constructor(readonly binding: string) {}

  get #waiting(): Map<string, Waiting> {
    this.#waitingMap ??= new Map();
    return this.#waitingMap;
  }

  /** Its name in the table of held calls: made only when the call is held (most calls never are). */
  get id(): string {
    this.#id ??= randomUUID();
    return this.#id;
  }

  /** Runs the call; its outcome ends the wait of whichever request is waiting then. */
  run(call: () => Promise<Result>): void {
    call().then(
      (result) => this.#settle({ kind: 'complete', result }),
      (error: unknown) => this.#settle({ kind: 'failed', error }),
    );
  }

  notify(method: string, params: Record<string, unknown> | undefined): Promise<void> {
    return this.current?.notify(method, params) ?? Promise.resolve();
  }

  request(method: string, params: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    const capability = NEEDS[method];
    if (capability === undefined) {
      return Promise.reject(new ProtocolError(ProtocolErrorCode.MethodNotFound, `The gateway cannot relay ${method} to a 2026-07-28 client`));
    }
    // A service may ask for roots on its own account (server-everything does, at any time):
    // a client without roots is told no, as a 2025 session's would be, and its call goes on.
    if (method === 'roots/list' && this.capabilities[capability] === undefined) {
      return Promise.reject(new ProtocolError(ProtocolErrorCode.InvalidRequest, 'The client did not declare the roots capability'));
    }
    if (this.capabilities[capability] === undefined || (method === 'elicitation/create' && !elicitationAllowed(params, this.capabilities['elicitation']))) {
      const required = method === 'elicitation/create' && params?.['mode'] === 'url' ? { elicitation: { url: {} } } : { [capability]: {} };
      // The request fails as the SDK fails it (-32021, HTTP 400), and the service's call is cancelled.
      const missing = new MissingRequiredClientCapabilityError({ requiredCapabilities: required });
      this.#settle({ kind: 'failed', error: new ProtocolError(missing.code, missing.message, missing.data) });
      this.abort.abort();
      return Promise.reject(new ProtocolError(ProtocolErrorCode.InvalidRequest, `The client did not declare the ${capability} capability`));
    }
    return new Promise((resolve, reject) => {
      this.#next += 1;
      this.#waiting.set(`${capability}-${this.#next}`, { method, params, resolve, reject });
      clearTimeout(this.#gather);
      this.#gather = setTimeout(() => this.#askClient(), GATHER_MS);
    });
  }

  /** The next step: the outcome, or the requests the client must answer first. */
  next(): Promise<Step> {
    if (this.#outcome !== undefined) return Promise.resolve(this.#outcome);
    return new Promise((resolve) => {
      this.#wake = resolve;
      // What was asked and is still unanswered is asked again at once.
      if ((this.#waitingMap?.size ?? 0) > 0 && this.#gather === undefined) this.#askClient();
    });
  }

  /** The service's requests still waiting for the client's answer, by key, as `inputRequests` carries them. */
  pending(): Record<string, unknown> {
    const requests: Record<string, unknown> = {};
    for (const [key, { method, params }] of this.#waiting) requests[key] = params === undefined ? { method } : { method, params };
    return requests;
  }

  /** The client's answers to this round's requests, by key; unknown keys are ignored, unanswered requests are asked again. */
  answer(responses: unknown): void {
    if (responses === null || typeof responses !== 'object' || Array.isArray(responses)) return;
    for (const [key, response] of Object.entries(responses as Record<string, unknown>)) {
      const waiting = this.#waiting.get(key);
      if (waiting === undefined) continue;
      this.#waiting.delete(key);
      if (response !== null && typeof response === 'object' && !Array.isArray(response)) waiting.resolve(response as Record<string, unknown>);
      else waiting.reject(new ProtocolError(ProtocolErrorCode.InvalidParams, `the client's answer to ${waiting.method} is not an object`));
    }
  }

  /** Gives up the call: its waiting requests fail (the service hears why) and the upstream call is cancelled. */
  drop(reason: string): void {
    clearTimeout(this.#gather);
    clearTimeout(this.#expiry);
    for (const waiting of this.#waitingMap?.values() ?? []) waiting.reject(new ProtocolError(ProtocolErrorCode.InternalError, reason));
    this.#waitingMap?.clear();
    this.abort.abort();
  }

  expireIn(ms: number, onExpiry: () => void): void {
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(onExpiry, ms);
    this.#expiry.unref();
  }

  stopExpiry(): void {
    clearTimeout(this.#expiry);
  }

  #askClient(): void {
    clearTimeout(this.#gather);
    this.#gather = undefined;
    const wake = this.#wake;
    if (wake === undefined || (this.#waitingMap?.size ?? 0) === 0) return;
    this.#wake = undefined;
    wake({ kind: 'input', requests: this.pending() });
  }

  #settle(step: Step): void {
    this.#outcome = step;
    clearTimeout(this.#gather);
    this.#gather = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(step);
  }
}

function elicitationAllowed(params: Record<string, unknown> | undefined, declared: unknown): boolean {
  if (params?.['mode'] !== 'url') return true;
  return declared !== null && typeof declared === 'object' && (declared as Record<string, unknown>)['url'] !== undefined;
}

/**
 * The calls held for a retry, and the `requestState` that names them: sealed with the SDK's
 * HMAC codec under a key of this process, bound to the caller's identity, the method and the
 * tool, prompt or resource it names, valid for INPUT_ROUND_TTL_MS and for one retry (it
 * names a round; the next round gets a new state). A call whose client does not retry in
 * time is dropped: its waiting requests fail upstream and the upstream call is cancelled.
 */
export class HeldCalls {
  readonly #held = new Map<string, HeldCall>();
  readonly #codec = createRequestStateCodec<StatePayload>({
    key: randomBytes(32),
    ttlSeconds: Math.ceil(INPUT_ROUND_TTL_MS / 1000),
    bind: (ctx) => (ctx as unknown as Binding).binding,
  });

  constructor(
    private readonly logger: Logger,
    private readonly max = MAX_HELD_CALLS,
  ) {}

  get size(): number {
    return this.#held.size;
  }

  /** Keeps `call` for the client's retry and seals the state that names this round. */
  async hold(call: HeldCall, identity: GatewayIdentity): Promise<string | undefined> {
    if (!this.#held.has(call.id) && this.#held.size >= this.max) return undefined;
    call.round += 1;
    call.held = true;
    this.#held.set(call.id, call);
    call.expireIn(INPUT_ROUND_TTL_MS, () => {
      if (this.#held.get(call.id) !== call) return;
      this.#held.delete(call.id);
      this.logger.info({ identity: identity.name }, `dropping a held 2026-07-28 call: its client did not retry within ${INPUT_ROUND_TTL_MS} ms`);
      call.drop(`the client did not answer within ${INPUT_ROUND_TTL_MS} ms`);
    });
    return this.#codec.mint({ x: call.id, r: call.round }, { binding: call.binding } as unknown as ServerContext);
  }

  /** The held call a retry's `requestState` names, taken for this request; a refusal saying why otherwise. */
  async take(state: unknown, binding: string): Promise<HeldCall> {
    if (typeof state !== 'string') throw invalidState('requestState must be a string this gateway issued');
    let payload: StatePayload;
    try {
      payload = await this.#codec.verify(state, { binding } as unknown as ServerContext);
    } catch (error) {
      const reason = (error as Error).message;
      throw invalidState(
        reason === 'expired'
          ? 'requestState has expired'
          : reason === 'bind'
            ? 'requestState was issued for another request or caller'
            : 'requestState failed verification (altered, or not issued by this gateway)',
      );
    }
    const call = this.#held.get(payload.x);
    if (call === undefined || call.round !== payload.r) {
      throw invalidState('requestState names no call waiting for input (it was answered already, or the call ended)');
    }
    this.#held.delete(call.id);
    call.stopExpiry();
    return call;
  }

  release(call: HeldCall): void {
    // A call never held has no id yet, and is not here.
    if (call.held && this.#held.get(call.id) === call) this.#held.delete(call.id);
  }

  close(): void {
    for (const call of this.#held.values()) call.drop('the gateway is shutting down');
    this.#held.clear();
  }
}

function invalidState(why: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid params: ${why}; send the request again without requestState and inputResponses`);
}
