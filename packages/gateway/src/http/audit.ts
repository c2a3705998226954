import type { AuthVariables } from '@meshgate/service-kit';
import { Hono } from 'hono';
import { z } from 'zod';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { AuditLog } from '../observability/audit.js';
import { AUDIT_KINDS, AUDIT_OUTCOMES, type AuditQuery } from '../registry/types.js';
import { requireRole } from './admin.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1_000;
const EXPORT_BATCH = 1_000;
const instant = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z' }).transform((t) => new Date(t).toISOString());
const bounded = z.string().min(1).max(2048);

/** The filters of `GET /audit` and `GET /audit/export`, from the query string. */
const filters = z.strictObject({
  identity: bounded.optional(),
  service: bounded.optional(),
  tool: bounded.optional(),
  kind: z.enum(AUDIT_KINDS as [string, ...string[]]).optional(),
  outcome: z.enum(AUDIT_OUTCOMES as [string, ...string[]]).optional(),
  since: instant.optional(),
  until: instant.optional(),
  cursor: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
});

function queryOf(search: Record<string, string>): AuditQuery {
  const parsed = filters.safeParse(search);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; ');
    throw new GatewayError('invalid_body', `Invalid audit query: ${issues}`);
  }
  const { tool, cursor, limit, kind, outcome, ...rest } = parsed.data;
  return {
    ...rest,
    ...(tool === undefined ? {} : { target: tool }),
    ...(kind === undefined ? {} : { kind: kind as AuditQuery['kind'] }),
    ...(outcome === undefined ? {} : { outcome: outcome as AuditQuery['outcome'] }),
    ...(cursor === undefined ? {} : { after: cursor }),
    limit: limit ?? DEFAULT_PAGE,
  } as AuditQuery;
}

/**
 * `GET /audit` (a page of entries, oldest first, `nextCursor` for the next) and
 * `GET /audit/export` (every matching entry as JSON lines), admin role only. Auth runs
 * before these routes.
 */
export function auditRoutes(audit: AuditLog): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/audit', requireRole('admin'), async (c) => {
    const page = await audit.query(queryOf(c.req.query()));
    return c.json(page.nextCursor === undefined ? { entries: page.entries } : { entries: page.entries, nextCursor: String(page.nextCursor) });
  });
  app.get('/audit/export', requireRole('admin'), async (c) => {
    const query = { ...queryOf(c.req.query()), limit: EXPORT_BATCH };
    const encoder = new TextEncoder();
    let after = query.after;
    let done = false;
    // Pulled page by page as the client reads: a large log is never held in memory whole.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (done) return controller.close();
        const page = await audit.query(after === undefined ? query : { ...query, after });
        const text = page.entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
        if (text !== '') controller.enqueue(encoder.encode(text));
        if (page.nextCursor === undefined) done = true;
        else after = page.nextCursor;
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' } });
  });
  return app;
}
