import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { commandName, run } from './cli.js';

function capture(): { io: { stdout: Writable; stderr: Writable }; out: () => string; err: () => string } {
  const texts = { out: '', err: '' };
  const sink = (key: 'out' | 'err') =>
    new Writable({
      write(chunk, _encoding, done) {
        texts[key] += String(chunk);
        done();
      },
    });
  return { io: { stdout: sink('out'), stderr: sink('err') }, out: () => texts.out, err: () => texts.err };
}

describe('commandName', () => {
  it('skips options and the values of --url and --token', () => {
    expect(commandName(['--url', 'http://x', '--json', 'status'])).toEqual({ name: 'status', index: 3 });
    expect(commandName(['--token', 'services', 'tools'])).toEqual({ name: 'tools', index: 2 });
    expect(commandName(['--json'])).toEqual({ name: undefined, index: -1 });
  });
});

describe('run', () => {
  it('prints one command’s usage for help <command> and --help', async () => {
    const first = capture();
    expect(await run(['help', 'call'], first.io, {})).toBe(0);
    expect(first.out()).toContain('meshgate call <tool> [key=value ...]');
    const second = capture();
    expect(await run(['services', '--help'], second.io, {})).toBe(0);
    expect(second.out()).toContain('meshgate services add <name> <url>');
  });

  it('is a usage error (2) for an unknown option or command, with the usage', async () => {
    const unknown = capture();
    expect(await run(['status', '--nope'], unknown.io, {})).toBe(2);
    expect(unknown.err()).toContain("Unknown option '--nope'");
    expect(unknown.err()).toContain('meshgate status');
    const command = capture();
    expect(await run(['help', 'nope'], command.io, {})).toBe(2);
  });

  it('never prints the token, even in a usage error about a broken URL', async () => {
    const broken = capture();
    expect(await run(['status', '--url', 'ftp://x', '--token', 'hush-hush-123'], broken.io, {})).toBe(2);
    expect(broken.err()).toContain('--url must be an http or https URL');
    expect(broken.err() + broken.out()).not.toContain('hush-hush-123');
  });
});
