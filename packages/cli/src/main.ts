#!/usr/bin/env node
import { run } from './cli.js';

// run() resolves when the command is done: for `connect` when the client closes stdin, for `up` when the children stopped.
const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, process.env);
// Exit once stdout has drained (a large --json answer into a pipe), so nothing is cut off.
process.stdout.write('', () => process.exit(code));
