import type { Context, Env, Hono } from 'hono';

/** What `/health` reports; `ok: false` answers 503. */
export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

/** Mounts an open `GET /health` answering the report as JSON; `report` sees the request (to say more to a caller with a token). */
export function mountHealth<E extends Env>(
  app: Hono<E>,
  service: string,
  report: (c: Context<E>) => HealthReport | Promise<HealthReport> = () => ({ ok: true }),
): void {
  const startedAt = Date.now();
  app.get('/health', async (c) => {
    const body = await report(c);
    return c.json(
      { status: body.ok ? 'ok' : 'unavailable', service, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), ...body },
      body.ok ? 200 : 503,
    );
  });
}
