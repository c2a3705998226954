/**
 * The docs are part of the product, checked against the code in both directions: the
 * generated tables (configuration in docs/configuration.md, error catalogue in docs/errors.md)
 * are exactly what `npm run docs:tables` would write now, and every setting or error code
 * the prose names exists in the code. This test only reads; it never rewrites a doc.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as gateway from '@meshgate/gateway';
import { describe, expect, it } from 'vitest';
import { CLI_ENV_VARS } from '../packages/cli/src/options.js';
import { GENERATED_SECTIONS, readSection } from '../scripts/lib/docs-tables.mjs';

const { ENV_VARS, GATEWAY_ERRORS } = gateway;
const root = new URL('../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');
const readme = read('README.md');
const proseFiles = [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Inline code spans outside fenced blocks, with the line they are on. */
function codeSpans(text: string): { span: string; line: string }[] {
  const outsideFences = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  return outsideFences.split('\n').flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((match) => ({ span: match[1] ?? '', line })));
}

/** `NAME=value` assignments in fenced blocks (shell examples). */
function fencedAssignments(text: string): string[] {
  const fences = [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((match) => match[1] ?? '');
  return fences.flatMap((block) => [...block.matchAll(/(?:^|\s)([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] ?? ''));
}

/**
 * Names that can only mean one of the gateway's variables: MESHGATE_*, LOG_*, MCP_*, the
 * seed's *_SERVICE_URL / *_SERVICE_TOKEN, PORT and HOST. Other upper-case names in the docs
 * (NODE_OPTIONS, BENCH_*, a tokenEnv example such as OPS_TOKEN) are not settings.
 */
const SETTING_NAME = /\b(MESHGATE_[A-Z0-9_]*[A-Z0-9]|LOG_[A-Z]+|MCP_[A-Z0-9_]*[A-Z0-9]|[A-Z]+_SERVICE_(?:URL|TOKEN)|PORT|HOST)(?![A-Za-z0-9_*])/g;

function settingNames(text: string): string[] {
  const inSpans = codeSpans(text).flatMap(({ span }) => [...span.matchAll(SETTING_NAME)].map((match) => match[1] ?? ''));
  const assigned = fencedAssignments(text).filter((name) => [...name.matchAll(SETTING_NAME)].some((match) => match[1] === name));
  return [...new Set([...inSpans, ...assigned])];
}

/**
 * Code spans used as gateway error codes: a snake_case code right after an HTTP error
 * status ("403 `forbidden`"), or a snake_case code next to the word error ("the
 * `upstream_timeout` error"). Other snake_case spans (`tools_claim`) are left alone.
 */
function errorCodes(text: string): string[] {
  const outsideFences = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  const patterns = [/\b[45]\d\d `([a-z]+(?:_[a-z]+)*)`/g, /\berrors? `([a-z]+(?:_[a-z]+)+)`/gi, /`([a-z]+(?:_[a-z]+)+)`(?: \([^)]*\))? errors?\b/gi];
  return [...new Set(patterns.flatMap((pattern) => [...outsideFences.matchAll(pattern)].map((match) => match[1] ?? '')))];
}

describe('README', () => {
  it('opens with the three commands, in order', () => {
    const opening = readme.slice(0, readme.indexOf('## '));
    const at = ['npm install && npm start', 'npm test', 'docker compose up --build'].map((command) => opening.indexOf(command));
    expect(at.every((position) => position > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
});

describe.each(GENERATED_SECTIONS)('the generated $name table in $file', ({ name, file, render }) => {
  it('is exactly what `npm run docs:tables` writes from the code now', () => {
    const section = readSection(read(file), name);
    if (!section.ok) throw new Error(`${file}: ${section.message}`);
    // On a difference: run `npm run docs:tables` and commit the docs it rewrites.
    expect(section.value).toBe(render(gateway));
  });
});

describe('the configuration table', () => {
  const table = readSection(read('docs/configuration.md'), 'env-vars');
  const rows = table.ok ? table.value.split('\n') : [];

  it.each(Object.entries(ENV_VARS))('documents %s with its default', (name, { default: value }) => {
    expect(rows.some((row) => row.startsWith(`| \`${name}\` | ${value.replaceAll('|', '\\|')} |`))).toBe(true);
  });
});

describe('the error catalogue in docs/errors.md', () => {
  const table = readSection(read('docs/errors.md'), 'errors');
  const rows = table.ok ? table.value.split('\n') : [];

  it.each(Object.entries(GATEWAY_ERRORS))('lists the error %s with its HTTP status and JSON-RPC code', (code, { status, rpc }) => {
    expect(rows.some((row) => row.startsWith(`| \`${code}\` | ${status} | ${rpc} |`))).toBe(true);
  });
});

describe.each(proseFiles)('%s names only what exists', (file) => {
  const text = read(file);

  it('every setting it names is one the gateway (or the meshgate CLI) reads', () => {
    expect(settingNames(text).filter((name) => !(name in ENV_VARS) && !(name in CLI_ENV_VARS))).toEqual([]);
  });

  it('every error code it names is in the catalogue', () => {
    expect(errorCodes(text).filter((code) => !(code in GATEWAY_ERRORS))).toEqual([]);
  });
});

describe('the name and code finders (so the checks above cannot pass by finding nothing)', () => {
  it('find settings in code spans and shell examples, and skip other names', () => {
    const text = [
      'Set `MESHGATE_TYPO_MS=5` or `LOG_LEVEL`; `MESHGATE_JWT_*` is a family; `NODE_OPTIONS` and `OPS_TOKEN` are not settings.',
      '```bash',
      'MESHGATE_FENCED=1 npm start',
      '```',
    ].join('\n');
    expect(settingNames(text).sort()).toEqual(['LOG_LEVEL', 'MESHGATE_FENCED', 'MESHGATE_TYPO_MS']);
    expect(settingNames(read('docs/configuration.md')).length).toBeGreaterThan(10);
  });

  it('find error codes after a status or next to "error", and skip other snake_case', () => {
    const text = 'A 404 `no_such_thing`, the `made_up` error, error `other_one`; the claim `tools_claim`; `error="invalid_token"`.';
    expect(errorCodes(text).sort()).toEqual(['made_up', 'no_such_thing', 'other_one']);
    expect(errorCodes(read('docs/security.md'))).toContain('forbidden');
  });
});
