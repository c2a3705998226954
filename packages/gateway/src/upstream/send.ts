import type { Client } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { runInCall, type Downstream } from './call-context.js';
import type { UpstreamLimits } from './limits.js';

export interface RequestOptions {
  signal?: AbortSignal;
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  /** The client on whose behalf the call runs; the service's requests during the call go there. */
  downstream?: Downstream;
}

/** Keeps every field the service sent: a gateway must not drop what it does not know. */
const passthrough = z.looseObject({});

/**
 * Sends one request on `client` with the call's deadline (extended by progress, up to
 * the absolute maximum), the client's cancellation and progress, and its `downstream`
 * as the call context, so the service's requests during the call are relayed to it.
 * `callers` holds the downstreams of the calls in flight, for requests a service does
 * not tie to a call.
 */
export async function sendRequest(
  client: Client,
  method: string,
  params: Record<string, unknown> | undefined,
  options: RequestOptions,
  limits: Pick<UpstreamLimits, 'requestMs' | 'maxRequestMs'>,
  callers: Set<Downstream>,
): Promise<Record<string, unknown>> {
  // Aborted when the call ends without an answer (deadline, cancellation), so the HTTP
  // request to the service is closed too, not only cancelled at the MCP level.
  const abandoned = new AbortController();
  const { downstream } = options;
  if (downstream !== undefined) callers.add(downstream);
  try {
    return (await runInCall({ signal: abandoned.signal, ...(downstream === undefined ? {} : { downstream }) }, () =>
      client.request({ method, ...(params === undefined ? {} : { params }) } as never, passthrough, {
        timeout: limits.requestMs,
        maxTotalTimeout: limits.maxRequestMs,
        resetTimeoutOnProgress: true,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.onprogress === undefined ? {} : { onprogress: options.onprogress }),
      }),
    )) as Record<string, unknown>;
  } catch (error) {
    // Let the SDK send notifications/cancelled first; then drop the request itself.
    setImmediate(() => abandoned.abort());
    throw error;
  } finally {
    if (downstream !== undefined) callers.delete(downstream);
  }
}
