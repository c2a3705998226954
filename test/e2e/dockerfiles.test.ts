/**
 * Static checks of the three Dockerfiles and .dockerignore (docker-compose.yml is
 * compose.test.ts), parsed here: no Docker engine is needed. The healthcheck commands are executed for real with the local
 * node against a throwaway HTTP server, so a broken one-liner fails here and
 * not in a container.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerIgnored, ops, parseCopy, parseDockerfile, parseEnv, parseHealthcheck, readDockerignore } from '../helpers/dockerfile.js';
import { FETCHERS, ROOT, SERVICES, useHealthcheckStandIn, workspaces } from '../helpers/packaging.js';

const expectHealthcheckWorks = useHealthcheckStandIn();

// ---------------------------------------------------------------------------
// 3: the Dockerfiles, parsed
// ---------------------------------------------------------------------------

for (const s of SERVICES)
  describe(`packages/${s.pkg}/Dockerfile`, () => {
    const rel = `packages/${s.pkg}/Dockerfile`;
    const stages = parseDockerfile(readFileSync(join(ROOT, rel), 'utf8'));
    const final = stages[stages.length - 1];
    if (!final) throw new Error(`${rel} has no FROM`);
    const copies = stages.flatMap((st) => ops(st, 'COPY').map((i) => ({ stage: st, ...parseCopy(i.args) })));

    it('is multi-stage', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
    });

    it('runs the final stage as a non-root user', () => {
      const users = ops(final, 'USER');
      const last = users[users.length - 1];
      expect(last, 'final stage needs a USER instruction').toBeDefined();
      const user = (last?.args ?? '').split(':')[0];
      expect(['root', '0', '']).not.toContain(user);
    });

    it(`EXPOSEs ${s.port} and sets NODE_ENV=production, HOST=0.0.0.0, PORT=${s.port}`, () => {
      const exposed = ops(final, 'EXPOSE')
        .flatMap((i) => i.args.split(/\s+/))
        .map((p) => p.replace(/\/tcp$/, ''));
      expect(exposed).toContain(String(s.port));
      const env = Object.assign({}, ...ops(final, 'ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
      expect(env.NODE_ENV).toBe('production');
      expect(env.HOST).toBe('0.0.0.0');
      expect(env.PORT).toBe(String(s.port));
    });

    it(`CMD runs packages/${s.pkg}/dist/main.js with node`, () => {
      const cmds = ops(final, 'CMD');
      const cmd = cmds[cmds.length - 1];
      expect(cmd, 'final stage needs a CMD').toBeDefined();
      // node, its flags if any (the gateway's heap flags: node-flags.test.ts), the entry point
      const argv = JSON.parse(cmd?.args ?? 'null') as string[];
      expect(argv[0]).toBe('node');
      expect(argv.slice(1, -1).every((arg) => arg.startsWith('--'))).toBe(true);
      expect(argv.at(-1)).toBe(`packages/${s.pkg}/dist/main.js`);
      // WORKDIR must make that relative path land where the dist is copied
      const workdirs = ops(final, 'WORKDIR');
      const workdir = workdirs[workdirs.length - 1]?.args ?? '/';
      const finalCopies = copies.filter((c) => c.stage === final).map((c) => posix.resolve(workdir, c.dest));
      expect(finalCopies).toContain(`${posix.resolve(workdir, `packages/${s.pkg}/dist`)}`);
      expect(finalCopies).toContain(`${posix.resolve(workdir, 'packages/service-kit/dist')}`);
      expect(finalCopies).toContain(`${posix.resolve(workdir, 'node_modules')}`);
      // the entry point that compiles to dist/main.js, and the outDir that puts it there
      expect(existsSync(join(ROOT, 'packages', s.pkg, 'src', 'main.ts')), `packages/${s.pkg}/src/main.ts`).toBe(true);
      expect(readFileSync(join(ROOT, 'packages', s.pkg, 'tsconfig.json'), 'utf8')).toMatch(/"outDir"\s*:\s*"(\.\/)?dist\/?"/);
    });

    it('has a HEALTHCHECK on /health that needs no curl or wget, and it really works', async () => {
      const hcs = ops(final, 'HEALTHCHECK');
      const hc = hcs[hcs.length - 1];
      expect(hc, 'final stage needs a HEALTHCHECK').toBeDefined();
      expect(hc?.args).not.toMatch(FETCHERS);
      expect(hc?.args).not.toMatch(/^NONE\b/i);
      const { test } = parseHealthcheck(hc?.args ?? '');
      expect(test.join(' ')).toContain('/health');
      await expectHealthcheckWorks(test, `${rel} HEALTHCHECK`);
    });

    it('keeps compilers out of the runtime stage', () => {
      const runs = ops(final, 'RUN')
        .map((i) => i.args)
        .join('\n');
      expect(runs).not.toMatch(/\b(g\+\+|gcc|make|python3|npm ci|npm install)\b/);
    });

    it('builds with npm ci from the root lockfile and every workspace package.json', () => {
      const ciStages = stages.filter((st) => ops(st, 'RUN').some((i) => /\bnpm ci\b/.test(i.args)));
      expect(ciStages.length, 'some stage must run npm ci').toBeGreaterThan(0);
      expect(stages.some((st) => ops(st, 'RUN').some((i) => /\bnpm run build\b/.test(i.args)))).toBe(true);
      const needed = ['package.json', 'package-lock.json', ...workspaces().map((w) => `${w}/package.json`)];
      for (const st of ciStages) {
        // npm ci refuses to run unless every workspace listed in the lockfile is present
        const copied = copies.filter((c) => c.stage === st && c.from === undefined).flatMap((c) => c.sources.map((src) => posix.normalize(src)));
        for (const file of needed) {
          expect(copied, `stage ${st.name ?? st.from} runs npm ci, so it must COPY ${file}`).toContain(posix.normalize(file));
        }
        // a full install compiles better-sqlite3 from source: it needs the toolchain
        const runs = ops(st, 'RUN')
          .map((i) => i.args)
          .join('\n');
        if (ops(st, 'RUN').some((i) => /\bnpm ci\b/.test(i.args) && !/--workspace|\s-w\s/.test(i.args))) {
          for (const tool of ['python3', 'make', 'g++']) expect(runs, `stage ${st.name ?? st.from}`).toContain(tool);
        }
      }
    });

    it('COPYs only paths that exist in the repo and are not .dockerignored', () => {
      const ignore = readDockerignore();
      const fromContext = copies.filter((c) => c.from === undefined);
      expect(fromContext.length).toBeGreaterThan(0);
      for (const c of fromContext) {
        for (const src of c.sources) {
          expect(src.includes('*') || src.includes('?'), `keep COPY sources literal: ${src}`).toBe(false);
          expect(existsSync(join(ROOT, src)), `${rel}: COPY source ${src} does not exist in the repo`).toBe(true);
          expect(dockerIgnored(src, ignore), `${rel}: COPY source ${src} is excluded by .dockerignore`).toBe(false);
        }
      }
    });

    it('COPY --from names an earlier stage, and paths under packages/ name real packages', () => {
      const names = stages.map((st) => st.name);
      for (const c of copies.filter((x) => x.from !== undefined)) {
        const idx = names.indexOf(c.from);
        expect(idx, `COPY --from=${c.from}: no such stage`).toBeGreaterThanOrEqual(0);
        expect(idx, `COPY --from=${c.from} must refer to an earlier stage`).toBeLessThan(stages.indexOf(c.stage));
        for (const src of c.sources) {
          const m = /(?:^|\/)packages\/([^/]+)/.exec(src);
          if (m?.[1]) expect(existsSync(join(ROOT, 'packages', m[1], 'package.json')), `${src}: packages/${m[1]}`).toBe(true);
        }
      }
    });
  });

// ---------------------------------------------------------------------------
// .dockerignore
// ---------------------------------------------------------------------------

describe('.dockerignore', () => {
  const ignore = readDockerignore();

  it.each([
    'node_modules',
    'packages/gateway/node_modules',
    'packages/service-kit/dist',
    'packages/gateway/dist/main.js',
    'packages/gateway/tsconfig.tsbuildinfo',
    '.git',
    'data',
    'data/meshgate.db',
    '.env',
  ])('excludes %s', (p) => {
    expect(dockerIgnored(p, ignore)).toBe(true);
  });

  it.each(['package.json', 'package-lock.json', 'tsconfig.base.json', 'packages/gateway/src/main.ts', 'packages/service-kit/package.json'])(
    'keeps %s in the build context',
    (p) => {
      expect(dockerIgnored(p, ignore)).toBe(false);
    },
  );
});
