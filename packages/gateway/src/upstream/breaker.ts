import { BrokenCircuitError, type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';

export type CircuitView = 'closed' | 'open' | 'half-open';

const VIEW: Record<CircuitState, CircuitView> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/**
 * A per-service circuit breaker (cockatiel): after `threshold` consecutive service
 * faults, calls fail fast for `cooldownMs`; then one call is let through, and its outcome
 * closes the circuit or opens it again. Only faults of the service count (timeouts,
 * answers that are not MCP); a tool's own error or a JSON-RPC error does not.
 */
export class ServiceBreaker {
  readonly #policy: CircuitBreakerPolicy;

  constructor(options: { threshold: number; cooldownMs: number; isFault: (error: Error) => boolean; onChange: (state: CircuitView) => void }) {
    this.#policy = circuitBreaker(handleWhen(options.isFault), {
      halfOpenAfter: options.cooldownMs,
      breaker: new ConsecutiveBreaker(options.threshold),
    });
    this.#policy.onStateChange((state) => options.onChange(VIEW[state]));
  }

  get state(): CircuitView {
    return VIEW[this.#policy.state];
  }

  /** Runs `fn` unless the circuit is open; throws `CircuitOpenError` if it is. */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#policy.execute(fn);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new CircuitOpenError();
      throw error;
    }
  }
}

export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor() {
    super('circuit open after repeated failures; calls fail fast until a probe call succeeds');
  }
}
