/**
 * Parsers for the container packaging: .dockerignore patterns and Dockerfile
 * instructions (stages, COPY, ENV, HEALTHCHECK), enough for the static checks.
 */

import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ROOT } from './packaging.js';

// .dockerignore matching, close enough to Docker's rules: a path is excluded when it or
// one of its parent folders matches a pattern; later `!pattern` lines re-include.
export function ignoreRegex(pattern: string): RegExp {
  const p = posix.normalize(pattern.replace(/^\.?\//, '')).replace(/\/$/, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p.charAt(i);
    if (c === '*' && p.charAt(i + 1) === '*') {
      if (p.charAt(i + 2) === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function dockerIgnored(path: string, patterns: string[]): boolean {
  const parts = posix.normalize(path).replace(/^\.\//, '').replace(/\/$/, '').split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = ignoreRegex(negate ? raw.slice(1) : raw);
    if (candidates.some((c) => re.test(c))) excluded = !negate;
  }
  return excluded;
}

export function readDockerignore(): string[] {
  return readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

// Dockerfile parsing: enough for the instructions these files use.
export interface Instruction {
  op: string;
  args: string;
}
export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let buf = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue; // comments (and parser directives)
    if (trimmed.endsWith('\\')) {
      buf += trimmed.slice(0, -1) + ' ';
      continue;
    }
    buf += trimmed;
    if (buf.trim() !== '') logical.push(buf.trim());
    buf = '';
  }
  if (buf.trim() !== '') logical.push(buf.trim());

  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l);
    if (!m) continue;
    const op = (m[1] ?? '').toUpperCase();
    const args = (m[2] ?? '').trim();
    if (op === 'FROM') {
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: fm?.[1] ?? args, name: fm?.[2], instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (current) current.instructions.push({ op, args });
  }
  return stages;
}

export function ops(stage: Stage, op: string): Instruction[] {
  return stage.instructions.filter((i) => i.op === op);
}

export interface CopyInstr {
  from: string | undefined;
  sources: string[];
  dest: string;
}

export function parseCopy(args: string): CopyInstr {
  let rest = args;
  let from: string | undefined;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S+))?\s+(.*)$/.exec(rest);
    if (!m) break;
    if (m[1] === 'from') from = m[2];
    rest = m[3] ?? '';
  }
  const parts = rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : rest.trim().split(/\s+/);
  const dest = parts[parts.length - 1] ?? '';
  return { from, sources: parts.slice(0, -1), dest };
}

/** ENV parsing: `ENV K=V K2="v 2"` and the legacy `ENV K V` form */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!/^[^\s=]+=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
    return out;
  }
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(re)) {
    const k = m[1];
    let v = m[2] ?? '';
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    if (k) out[k] = v;
  }
  return out;
}

/** HEALTHCHECK [options] CMD ... -> compose-style test array */
export function parseHealthcheck(args: string): { options: Record<string, string>; test: string[] } {
  const options: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s+(.*)$/.exec(rest);
    if (!m?.[1]) break;
    options[m[1]] = m[2] ?? '';
    rest = m[3] ?? '';
  }
  const cm = /^CMD\s+(.*)$/.exec(rest);
  if (!cm) throw new Error(`HEALTHCHECK must use CMD, got: ${rest}`);
  const cmd = (cm[1] ?? '').trim();
  if (cmd.startsWith('[')) return { options, test: ['CMD', ...(JSON.parse(cmd) as string[])] };
  return { options, test: ['CMD-SHELL', cmd] };
}
