/**
 * The README is part of the product: its configuration table and error catalogue are
 * checked against the code, so neither can drift from what the gateway does.
 */
import { readFileSync } from 'node:fs';
import { ENV_VARS, GATEWAY_ERRORS } from '@meshgate/gateway';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rows = readme.split('\n').filter((line) => line.startsWith('| `'));

describe('README', () => {
  it('opens with the three commands, in order', () => {
    const opening = readme.slice(0, readme.indexOf('## '));
    const at = ['npm install && npm start', 'npm test', 'docker compose up --build'].map((command) => opening.indexOf(command));
    expect(at.every((position) => position > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it.each(Object.keys(ENV_VARS))('documents the variable %s in the configuration table', (name) => {
    expect(rows.some((row) => row.startsWith(`| \`${name}\` |`))).toBe(true);
  });

  it.each(Object.entries(GATEWAY_ERRORS))('lists the error %s with its HTTP status and JSON-RPC code', (code, { status, rpc }) => {
    const row = rows.find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row).toBeDefined();
    expect(row).toContain(`| ${status} | ${rpc} |`);
  });
});
