import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthVariables } from '@meshgate/service-kit';
import { type Context, Hono } from 'hono';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/admin';

/**
 * The dashboard package's build output, found from this file's place in the workspace
 * (packages/gateway/{src,dist}/http/ → packages/dashboard/dist), so a source checkout, the
 * built gateway and the container image (which keeps the same layout) all find it.
 */
export function defaultDashboardDir(): string {
  return fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));
}

/**
 * The headers of every /admin answer. The bundle has no inline script or style (Vite is set
 * up for that, packages/dashboard/vite.config.ts), so the policy allows only the gateway's
 * own origin; it may not be framed (clickjacking of the admin buttons).
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Which file of the bundle a request path names, or why none does. */
export type AssetPath = { ok: true; file: string; relativePath: string } | { ok: false; reason: 'traversal' | 'hidden' | 'malformed' };

/**
 * The file under `root` that a path below /admin/ names (`/admin/` itself: index.html).
 * Pure: percent-decoding first, then any `..` or `.` segment, empty segment, backslash or
 * NUL is refused, so no spelling (`%2e%2e`, `..%2f`, `\\`) leaves `root`; dot files are
 * never served. The caller still checks the real path (symlinks) before reading.
 */
export function assetPath(root: string, requestPath: string): AssetPath {
  const below = requestPath.slice(DASHBOARD_PATH.length + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(below === '' ? 'index.html' : below);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, reason: 'malformed' };
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.' || segment === '')) return { ok: false, reason: 'traversal' };
  if (segments.some((segment) => segment.startsWith('.'))) return { ok: false, reason: 'hidden' };
  const file = join(root, ...segments);
  const relativePath = relative(root, file);
  if (relativePath.startsWith('..') || isAbsolute(relativePath)) return { ok: false, reason: 'traversal' };
  return { ok: true, file, relativePath };
}

/** Hashed by Vite (assets/index-<hash>.js): cached for good. Everything else is revalidated, so a new build shows at once. */
function cacheControl(relativePath: string): string {
  return relativePath.startsWith(`assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

async function isFileInside(root: string, file: string): Promise<boolean> {
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (!realFile.startsWith(realRoot + sep)) return false;
    return (await stat(realFile)).isFile();
  } catch {
    return false;
  }
}

function notFound(c: Context<Env>): Response {
  return c.json({ error: 'not_found', message: `No dashboard file at ${c.req.path}` }, 404, { ...SECURITY_HEADERS, 'cache-control': 'no-store' });
}

/**
 * `GET /admin/…`: the dashboard's static files, open (they hold no data; every page asks for
 * a token and calls the admin API and /mcp with it). 503 `dashboard_not_built` while the
 * bundle is missing; 404 for anything outside it, traversal attempts included.
 */
export function dashboardRoutes(root: string): Hono<Env> {
  const app = new Hono<Env>();
  app.on(['GET', 'HEAD'], DASHBOARD_PATH, (c) => c.redirect(`${DASHBOARD_PATH}/`, 308));
  app.on(['GET', 'HEAD'], `${DASHBOARD_PATH}/*`, async (c) => {
    const asset = assetPath(root, c.req.path);
    if (!asset.ok) return notFound(c);
    if (!(await isFileInside(root, join(root, 'index.html')))) {
      const error = new GatewayError(
        'dashboard_not_built',
        'The dashboard is not built: run `npm run build` (it builds packages/dashboard into packages/dashboard/dist)',
      );
      return c.json(error.toJSON(), 503, { ...SECURITY_HEADERS, 'cache-control': 'no-store' });
    }
    if (!(await isFileInside(root, asset.file))) return notFound(c);
    const body = new Uint8Array(await readFile(asset.file));
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': TYPES[extname(asset.file)] ?? 'application/octet-stream',
      'content-length': String(body.byteLength),
      'cache-control': cacheControl(asset.relativePath),
    };
    return c.req.method === 'HEAD' ? c.body(null, 200, headers) : c.body(body, 200, headers);
  });
  return app;
}
