import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assetPath, DASHBOARD_CSP, dashboardRoutes, defaultDashboardDir } from './dashboard.js';

const ROOT = '/srv/dashboard/dist';

describe('assetPath', () => {
  it.each([
    ['/admin/', 'index.html'],
    ['/admin/index.html', 'index.html'],
    ['/admin/assets/index-abc.js', 'assets/index-abc.js'],
    ['/admin/assets/a%20b.css', 'assets/a b.css'],
  ])('%s names %s', (path, relativePath) => {
    expect(assetPath(ROOT, path)).toEqual({ ok: true, file: join(ROOT, relativePath), relativePath });
  });

  it.each([
    ['/admin/..', 'traversal'],
    ['/admin/../etc/passwd', 'traversal'],
    ['/admin/..%2f..%2fetc%2fpasswd', 'traversal'],
    ['/admin/%2e%2e/%2e%2e/etc/passwd', 'traversal'],
    ['/admin/assets/./x.js', 'traversal'],
    ['/admin//etc/passwd', 'traversal'],
    ['/admin/assets/', 'traversal'],
    ['/admin/..%5c..%5cetc%5cpasswd', 'malformed'],
    ['/admin/index.html%00.js', 'malformed'],
    ['/admin/%E0%A4%A', 'malformed'],
    ['/admin/.env', 'hidden'],
    ['/admin/.vite/manifest.json', 'hidden'],
  ])('refuses %s (%s)', (path, reason) => {
    expect(assetPath(ROOT, path)).toEqual({ ok: false, reason });
  });
});

/** A bundle in a temporary directory, with a secret beside it and a symlink pointing out to it. */
function bundle(): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'meshgate-dashboard-'));
  const root = join(base, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  const outside = join(base, 'secret.txt');
  writeFileSync(outside, 'top secret');
  symlinkSync(outside, join(root, 'assets', 'link.txt'));
  return { root, outside };
}

describe('dashboardRoutes', () => {
  it('serves index.html and hashed assets with the CSP, nosniff and their cache policy', async () => {
    const app = dashboardRoutes(bundle().root);
    const index = await app.request('/admin/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('<title>t</title>');
    const asset = await app.request('/admin/assets/index-abc.js');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const head = await app.request('/admin/assets/index-abc.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('redirects /admin to /admin/', async () => {
    const answer = await dashboardRoutes(bundle().root).request('/admin');
    expect(answer.status).toBe(308);
    expect(answer.headers.get('location')).toBe('/admin/');
  });

  it('answers 404 for a missing file and for a symlink that leaves the bundle', async () => {
    const app = dashboardRoutes(bundle().root);
    expect((await app.request('/admin/nope.js')).status).toBe(404);
    const link = await app.request('/admin/assets/link.txt');
    expect(link.status).toBe(404);
    expect(await link.text()).not.toContain('top secret');
    expect(link.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
  });

  it('answers 503 saying to run the build while there is no bundle', async () => {
    const answer = await dashboardRoutes(join(tmpdir(), 'meshgate-no-such-dashboard')).request('/admin/');
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error: 'dashboard_not_built', message: expect.stringContaining('npm run build') });
  });

  it('finds the dashboard package by default', () => {
    expect(defaultDashboardDir()).toMatch(/packages[/\\]dashboard[/\\]dist[/\\]?$/);
  });
});
