/**
 * Renders deploy/helm/meshgate the way `helm template` would, for tests, without helm: no
 * helm binary exists in Debian or here, and no npm library renders Go templates. So the
 * chart keeps to a subset of Helm's template language, and this renderer refuses anything
 * outside it rather than render it wrongly (docs/decisions/0006-helm-template-subset.md):
 *
 * - actions `{{ pipeline }}`, with `{{-` / `-}}` trimming the whitespace on that side;
 * - a pipeline starts with a value (`.Values.a.b`, `.Release.Name`, `.Release.Namespace`,
 *   `.Chart.Name`, `.Chart.Version`, `.Chart.AppVersion`, a "string" or a number) or with
 *   `required "message" <value>`, then `| fn` stages: `quote`, `b64enc`, `toYaml`,
 *   `nindent N`, `indent N`;
 * - nothing else: no `if`/`range`/`with`/`define`/`include`/variables/comments. A value
 *   path values.yaml does not have is an error (Helm would print `<no value>`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';

export interface Release {
  name: string;
  namespace: string;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

type Scope = { Values: unknown; Release: { Name: string; Namespace: string }; Chart: { Name: string; Version: string; AppVersion: string } };

const ACTION = /(\s*)\{\{(-?)([\s\S]*?)(-?)\}\}(\s*)/g;

/** Renders one template's text against `scope`; throws TemplateError naming `file` and the action it refuses. */
export function renderTemplate(text: string, scope: Scope, file = 'template'): string {
  let out = '';
  let last = 0;
  ACTION.lastIndex = 0;
  for (let match = ACTION.exec(text); match !== null; match = ACTION.exec(text)) {
    const [whole, before = '', trimLeft, body = '', trimRight, after = ''] = match;
    out += text.slice(last, match.index) + (trimLeft === '-' ? '' : before);
    out += evaluate(body.trim(), scope, file);
    out += trimRight === '-' ? '' : after;
    last = match.index + whole.length;
  }
  const rest = text.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) throw new TemplateError(`${file}: an unterminated {{ action }}`);
  return out + rest;
}

function evaluate(pipeline: string, scope: Scope, file: string): string {
  const stages = splitPipeline(pipeline);
  const first = tokens(stages[0] ?? '', file);
  let value: unknown;
  if (first[0] === 'required') {
    if (first.length !== 3) throw new TemplateError(`${file}: required takes a "message" and a value: {{ ${pipeline} }}`);
    value = operand(first[2] as string, scope, file);
    if (value === undefined || value === null || value === '') throw new TemplateError(`${file}: ${literal(first[1] as string, file)}`);
  } else {
    if (first.length !== 1) {
      throw new TemplateError(`${file}: "${first[0]}" is outside the template subset (only a value or required starts a pipeline): {{ ${pipeline} }}`);
    }
    value = operand(first[0] as string, scope, file);
  }
  for (const stage of stages.slice(1)) value = apply(tokens(stage, file), value, pipeline, file);
  return typeof value === 'string' ? value : value === undefined ? '' : typeof value === 'object' ? stringify(value).trimEnd() : String(value);
}

function apply([fn, ...args]: string[], value: unknown, pipeline: string, file: string): unknown {
  const count = () => {
    if (args.length !== 1 || !/^\d+$/.test(args[0] as string)) throw new TemplateError(`${file}: ${fn} takes one whole number: {{ ${pipeline} }}`);
    return Number(args[0]);
  };
  const text = () => (typeof value === 'string' ? value : value === undefined ? '' : typeof value === 'object' ? stringify(value).trimEnd() : String(value));
  switch (fn) {
    case 'quote':
      return JSON.stringify(text());
    case 'b64enc':
      return Buffer.from(text(), 'utf8').toString('base64');
    case 'toYaml':
      return value === undefined ? '' : stringify(value).trimEnd();
    case 'indent':
      return text().replace(/^/gm, ' '.repeat(count()));
    case 'nindent':
      return `\n${text().replace(/^/gm, ' '.repeat(count()))}`;
    default:
      throw new TemplateError(
        `${file}: "${fn}" is outside the template subset this chart keeps to (quote, b64enc, toYaml, indent, nindent): {{ ${pipeline} }}`,
      );
  }
}

function operand(token: string, scope: Scope, file: string): unknown {
  if (token.startsWith('"')) return literal(token, file);
  if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
  const path = /^\.(Values|Release|Chart)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/.exec(token);
  if (path === null) throw new TemplateError(`${file}: "${token}" is outside the template subset (a .Values/.Release/.Chart path, a "string" or a number)`);
  let value: unknown = scope[path[1] as keyof Scope];
  for (const key of (path[2] ?? '').split('.').slice(1)) {
    if (typeof value !== 'object' || value === null || !(key in value))
      throw new TemplateError(`${file}: ${token} names nothing (values.yaml has no such key)`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function literal(token: string, file: string): string {
  try {
    const value: unknown = JSON.parse(token);
    if (typeof value === 'string') return value;
  } catch {}
  throw new TemplateError(`${file}: ${token} is not a "double-quoted string"`);
}

/** Splits on `|` outside strings. */
function splitPipeline(pipeline: string): string[] {
  const stages: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < pipeline.length; i += 1) {
    const c = pipeline[i] as string;
    if (c === '"' && pipeline[i - 1] !== '\\') quoted = !quoted;
    if (c === '|' && !quoted) {
      stages.push(current.trim());
      current = '';
    } else current += c;
  }
  stages.push(current.trim());
  return stages;
}

function tokens(stage: string, file: string): string[] {
  const found = stage.match(/"(?:[^"\\]|\\.)*"|[^\s"]+/g) ?? [];
  if (found.length === 0) throw new TemplateError(`${file}: an empty pipeline stage`);
  return found;
}

/** Merges `overrides` into `base` (maps deeply, anything else replaced), as `--set`/`-f` do. */
function merge(base: unknown, overrides: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    return overrides;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) out[key] = key in out ? merge(out[key], value) : value;
  return out;
}

/** Renders every template of the chart in `dir` with values.yaml merged with `overrides`: the objects, parsed. */
export function renderChart(dir: string, release: Release, overrides: Record<string, unknown> = {}): { file: string; object: Record<string, unknown> }[] {
  const chart = parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { name: string; version: string; appVersion: string };
  const values = merge(parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8')), overrides);
  const scope: Scope = {
    Values: values,
    Release: { Name: release.name, Namespace: release.namespace },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const rendered: { file: string; object: Record<string, unknown> }[] = [];
  for (const file of readdirSync(join(dir, 'templates')).sort()) {
    if (!file.endsWith('.yaml')) throw new TemplateError(`templates/${file}: only .yaml templates are in the subset (no _helpers.tpl)`);
    const text = renderTemplate(readFileSync(join(dir, 'templates', file), 'utf8'), scope, `templates/${file}`);
    const object = parseYaml(text) as Record<string, unknown>;
    rendered.push({ file: `templates/${file}`, object });
  }
  return rendered;
}
