/**
 * docs/clients.md: every JSON snippet parses and is a server entry a client can use: the
 * gateway's /mcp with a Bearer header, `meshgate connect` (on the PATH, or node with the
 * CLI's built entry) with the gateway's URL and a token in its environment, or mcp-remote
 * with the header. Each client's section shows both an HTTP (or mcp-remote) way and
 * `meshgate connect`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeUrl } from '../packages/cli/src/options.js';

const root = new URL('../', import.meta.url);
const doc = readFileSync(new URL('docs/clients.md', root), 'utf8');
const cliBin = (JSON.parse(readFileSync(new URL('packages/cli/package.json', root), 'utf8')) as { bin: Record<string, string> }).bin['meshgate'];
const GATEWAY_MCP = 'http://localhost:3001/mcp';
const CLIENTS = ['Claude Desktop', 'Claude Code', 'Cursor', 'VS Code'];

type Kind = 'http' | 'connect' | 'mcp-remote';
interface Entry {
  type?: string;
  url?: string;
  headers?: Record<string, string>;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
}

/** The doc's sections by `## ` heading, each with its JSON snippets. */
function sections(): Array<{ title: string; snippets: string[] }> {
  return doc
    .split(/^## /m)
    .slice(1)
    .map((part) => ({
      title: part.slice(0, part.indexOf('\n')).trim(),
      snippets: [...part.matchAll(/^```json\n([\s\S]*?)^```/gm)].map((match) => match[1] ?? ''),
    }));
}

/** What a server entry is, or throws saying what is wrong with it. */
function classify(entry: Entry, where: string): Kind {
  if (entry.url !== undefined) {
    expect(entry.url, `${where}: url`).toBe(GATEWAY_MCP);
    expect(entry.headers?.['Authorization'], `${where}: Authorization header`).toMatch(/^Bearer \S+$/);
    return 'http';
  }
  const args = entry.args ?? [];
  if (entry.command === 'npx' && args.includes('mcp-remote')) {
    expect(args, `${where}: mcp-remote URL`).toContain(GATEWAY_MCP);
    const header = args[args.indexOf('--header') + 1] ?? '';
    expect(header, `${where}: mcp-remote --header`).toMatch(/^Authorization:/);
    const value = header.replace(/^Authorization:/, '').replace(/\$\{(\w+)\}/g, (_, name: string) => entry.env?.[name] ?? '');
    expect(value, `${where}: the header's value`).toMatch(/^ ?Bearer \S+$/);
    return 'mcp-remote';
  }
  const onPath = entry.command === 'meshgate' && args.length === 1 && args[0] === 'connect';
  const byNode = entry.command === 'node' && args.length === 2 && args[0]!.endsWith(`/packages/cli/${cliBin}`) && args[1] === 'connect';
  expect(onPath || byNode, `${where}: a command the client launches (meshgate connect, or node …/packages/cli/${cliBin} connect)`).toBe(true);
  expect(normalizeUrl(entry.env?.['MESHGATE_URL'] ?? '', 'MESHGATE_URL'), `${where}: MESHGATE_URL`).toBe('http://localhost:3001');
  expect(entry.env?.['MESHGATE_TOKEN'], `${where}: MESHGATE_TOKEN`).toMatch(/\S/);
  return 'connect';
}

describe('docs/clients.md', () => {
  const all = sections();

  it('has a section for each client', () => {
    expect(all.map((section) => section.title)).toEqual(expect.arrayContaining(CLIENTS));
  });

  describe.each(CLIENTS)('%s', (client) => {
    const section = all.find((candidate) => candidate.title === client);
    const snippets = section?.snippets ?? [];

    it('has JSON snippets that all parse into server entries of a known shape', () => {
      expect(snippets.length).toBeGreaterThanOrEqual(2);
      const kinds = new Set<Kind>();
      snippets.forEach((text, index) => {
        const where = `${client} snippet ${index + 1}`;
        const config = JSON.parse(text) as { mcpServers?: Record<string, Entry>; servers?: Record<string, Entry>; inputs?: Array<{ id: string }> };
        // VS Code's key is `servers`; the other three use `mcpServers`.
        const servers = client === 'VS Code' ? config.servers : config.mcpServers;
        expect(servers, `${where}: ${client === 'VS Code' ? 'servers' : 'mcpServers'}`).toBeTypeOf('object');
        const entries = Object.entries(servers ?? {});
        expect(entries.length, where).toBeGreaterThan(0);
        for (const [name, entry] of entries) {
          expect(name).toBe('meshgate');
          kinds.add(classify(entry, where));
          // Every ${input:id} a VS Code entry uses is declared in `inputs`.
          for (const [, id] of JSON.stringify(entry).matchAll(/\$\{input:([^}]+)\}/g))
            expect(
              config.inputs?.map((input) => input.id),
              where,
            ).toContain(id);
        }
      });
      expect(kinds.has('connect'), `${client}: a meshgate connect snippet`).toBe(true);
      expect(kinds.has('http') || kinds.has('mcp-remote'), `${client}: an HTTP (or mcp-remote) snippet`).toBe(true);
    });
  });

  it('finds the snippets at all (so the checks above cannot pass on an empty page)', () => {
    expect(all.flatMap((section) => section.snippets).length).toBeGreaterThanOrEqual(9);
  });
});
