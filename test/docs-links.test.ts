/**
 * Every relative Markdown link in README.md and docs/ (decisions included) points to a file
 * or folder that exists, and every `#anchor` to a heading of the file it names, by GitHub's
 * slug rules. Links inside fenced blocks and code spans are examples, not links; http(s)
 * and mailto links are not checked (no network in tests).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));

function markdownFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

const files = ['README.md', ...markdownFiles('docs')];

/** The text without fenced blocks and inline code spans, which hold examples rather than links. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading slug: lower-case, punctuation dropped, each space a dash. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file offers: one per heading, repeats numbered -1, -2, … as GitHub does, and explicit HTML anchors. */
function anchors(text: string): Set<string> {
  const withoutFences = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of withoutFences.matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const base = slug(match[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  // An explicit HTML anchor (`<a id="…"></a>`) keeps an old link working after its heading moved.
  for (const match of withoutFences.matchAll(/<a (?:id|name)="([^"]+)"/g)) result.add(match[1] ?? '');
  return result;
}

/** Relative link targets of a Markdown text: inline links and images, and reference definitions. */
function relativeLinks(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1] ?? '');
  const definitions = [...body.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/gm)].map((match) => match[1] ?? '');
  return [...inline, ...definitions].filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** Why a link from `file` to `target` does not resolve, or null when it does. */
function broken(file: string, target: string): string | null {
  const [pathPart = '', anchor] = target.split('#', 2);
  const path = pathPart === '' ? file : join(dirname(file), decodeURIComponent(pathPart));
  if (relative(root, join(root, path)).startsWith('..')) return `${target}: leaves the repository`;
  const absolute = join(root, path);
  if (!existsSync(absolute)) return `${target}: no file ${path}`;
  if (anchor === undefined) return null;
  if (statSync(absolute).isDirectory() || !path.endsWith('.md')) return `${target}: an anchor into something that is not a Markdown file`;
  return anchors(readFileSync(absolute, 'utf8')).has(anchor) ? null : `${target}: ${path} has no heading with the slug #${anchor}`;
}

describe.each(files)('links in %s', (file) => {
  const text = readFileSync(join(root, file), 'utf8');

  it('every relative link points to an existing file and heading', () => {
    expect(relativeLinks(text).flatMap((target) => broken(file, target) ?? [])).toEqual([]);
  });

  it('never mentions a shared/ folder outside the repository', () => {
    expect(text).not.toMatch(/(^|[\s(`'"/.])shared\//m);
  });
});

describe("the README's Documentation list", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Documentation\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = start < 0 ? '' : readme.slice(start + 1, end < 0 ? undefined : end);

  it.each(readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')))('links docs/%s with a line of its own', (name) => {
    expect(section.split('\n').filter((line) => line.startsWith(`- [docs/${name}](docs/${name})`))).toHaveLength(1);
  });
});

describe('the link and slug finders (so the check above cannot pass by finding nothing)', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug("Try it: the seed's commands")).toBe('try-it-the-seeds-commands');
    expect(slug('Names, URIs and clashes')).toBe('names-uris-and-clashes');
    expect(slug('3. A registered service received a token that is admin on the gateway')).toBe(
      '3-a-registered-service-received-a-token-that-is-admin-on-the-gateway',
    );
    expect(slug('`meshgate up [--demo] [--port N]`')).toBe('meshgate-up---demo---port-n');
    expect(slug('Traces: OpenTelemetry')).toBe('traces-opentelemetry');
    expect([...anchors('# A\n## A\n```\n# not a heading\n```\n### B: c\n<a id="old-name"></a>\n')]).toEqual(['a', 'a-1', 'b-c', 'old-name']);
  });

  it('finds relative links and skips examples and absolute URLs', () => {
    const text = [
      'See [a](docs/a.md), [b](#b), ![img](x.png "t") and [c](https://example.com).',
      '`[code](not-a-link.md)`',
      '```md',
      '[fenced](not-either.md)',
      '```',
      '[ref]: docs/ref.md#top',
    ].join('\n');
    expect(relativeLinks(text)).toEqual(['docs/a.md', '#b', 'x.png', 'docs/ref.md#top']);
  });

  it('reports a missing file and a missing heading', () => {
    expect(broken('README.md', 'docs/no-such-page.md')).toMatch(/no file/);
    expect(broken('README.md', 'docs/errors.md#no-such-heading')).toMatch(/no heading/);
    expect(broken('README.md', 'docs/errors.md#errors')).toBeNull();
    expect(relativeLinks(readFileSync(join(root, 'README.md'), 'utf8')).length).toBeGreaterThan(5);
  });
});
