import { DEFAULT_MAX_JSON_DEPTH } from '@meshgate/service-kit';

/** How long, how often and how much, for one service's connection. */
export interface UpstreamLimits {
  /** Connecting and listing tools, per attempt. */
  connectMs: number;
  /** One request; progress notifications from the service extend it... */
  requestMs: number;
  /** ...up to this absolute maximum. */
  maxRequestMs: number;
  /** Ping interval while up; 0 disables probing. */
  probeIntervalMs: number;
  /** Reconnect backoff bounds. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Consecutive service faults that open the circuit, and how long it stays open. */
  breakerThreshold: number;
  breakerCooldownMs: number;
  /** Largest response the gateway reads from a service. */
  maxResponseBytes: number;
  /** Items of one kind (tools, prompts, resources) kept from one service; the rest are dropped with a warning. */
  maxListItems: number;
  /** Longest description kept; longer ones are cut with a warning. */
  maxDescriptionChars: number;
}

export const DEFAULT_LIMITS: UpstreamLimits = {
  connectMs: 5_000,
  requestMs: 60_000,
  maxRequestMs: 10 * 60_000,
  probeIntervalMs: 15_000,
  retryMinMs: 250,
  retryMaxMs: 5_000,
  breakerThreshold: 5,
  breakerCooldownMs: 10_000,
  maxResponseBytes: 16 * 1024 * 1024,
  maxListItems: 5_000,
  maxDescriptionChars: 16 * 1024,
};

/**
 * Deepest nesting of arrays and objects taken in a service's message: the same bound as
 * for client input (service-kit's `DEFAULT_MAX_JSON_DEPTH`), so nothing the gateway handles
 * is deeper than what it would accept from a client.
 */
export const MAX_ANSWER_DEPTH = DEFAULT_MAX_JSON_DEPTH;

/** Probes missed in a row before a connected service counts as down. */
export const PROBE_FAILURES_FOR_DOWN = 3;
