import type { Env, Hono } from 'hono';

/** What `/health` reports; `ok: false` answers 503. */
export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

/** Mounts an open `GET /health` answering the report as JSON. */
export function mountHealth<E extends Env>(app: Hono<E>, service: string, report: () => HealthReport = () => ({ ok: true })): void {
  const startedAt = Date.now();
  app.get('/health', (c) => {
    const body = report();
    return c.json(
      { status: body.ok ? 'ok' : 'unavailable', service, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), ...body },
      body.ok ? 200 : 503,
    );
  });
}
