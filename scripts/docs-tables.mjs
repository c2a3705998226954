#!/usr/bin/env node
// `npm run docs:tables`: rewrites the generated tables in the docs from the built gateway
// (its ENV_VARS and GATEWAY_ERRORS), between their `<!-- generated:… -->` markers.
// Run it by hand after changing a setting or an error code, and commit the result;
// test/docs.test.ts fails until the docs match the code. Needs `npm run build` first.
import { readFileSync, writeFileSync } from 'node:fs';
import * as gateway from '@meshgate/gateway';
import { GENERATED_SECTIONS, replaceSection } from './lib/docs-tables.mjs';

const root = new URL('../', import.meta.url);
let failed = false;
for (const section of GENERATED_SECTIONS) {
  const path = new URL(section.file, root);
  const before = readFileSync(path, 'utf8');
  const after = replaceSection(before, section.name, section.render(gateway));
  if (!after.ok) {
    console.error(`${section.file}: ${after.message}`);
    failed = true;
    continue;
  }
  if (after.value === before) {
    console.log(`${section.file}: ${section.name} is up to date`);
  } else {
    writeFileSync(path, after.value);
    console.log(`${section.file}: ${section.name} rewritten`);
  }
}
process.exit(failed ? 1 : 0);
