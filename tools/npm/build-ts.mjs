#!/usr/bin/env node
// Builds a TypeScript WebAssembly component with the pinned jco, tsc and componentize-js:
//
//   node tools/npm/build-ts.mjs --project DIR --wit WIT_DIR --world WORLD --out OUT.wasm [--js-dir DIR]
//
//  1. `jco guest-types WIT_DIR --world-name WORLD` writes the world's TypeScript declarations
//     into DIR/generated/ (replacing what was there);
//  2. `tsc -p DIR` type-checks DIR's sources against them (DIR/tsconfig.json) and emits
//     JavaScript into --js-dir (default DIR/dist); any type error stops the build here;
//  3. componentize.mjs turns JS_DIR/plugin.js into the component OUT.wasm.
//
// Exit status 0 only when all three succeed; OUT.wasm is written only then.

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

function fail(msg) {
  console.error(`build-ts: ${msg}`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    project: { type: 'string' },
    wit: { type: 'string' },
    world: { type: 'string' },
    out: { type: 'string' },
    'js-dir': { type: 'string' },
  },
  strict: true,
});
for (const k of ['project', 'wit', 'world', 'out']) {
  if (!values[k]) fail(`missing --${k}`);
}
const project = resolve(values.project);
const jsDir = resolve(values['js-dir'] ?? join(project, 'dist'));
const generated = join(project, 'generated');

function run(step, args) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.error) fail(`${step}: ${r.error.message}`);
  if (r.status !== 0) fail(`${step} failed (exit ${r.status ?? r.signal})`);
}

rmSync(generated, { recursive: true, force: true });
run('jco guest-types', [
  join(here, 'node_modules/@bytecodealliance/jco/src/jco.js'),
  'guest-types', resolve(values.wit), '--world-name', values.world, '-o', generated, '-q',
]);
rmSync(jsDir, { recursive: true, force: true });
run('tsc', [join(here, 'node_modules/typescript/bin/tsc'), '-p', project, '--outDir', jsDir, '--pretty', 'false']);
const entry = join(jsDir, 'plugin.js');
if (!existsSync(entry)) fail(`tsc wrote no ${entry} (the entry point must be src/plugin.ts)`);
run('componentize', [
  join(here, 'componentize.mjs'),
  '--source', entry, '--wit', resolve(values.wit), '--world', values.world, '--out', resolve(values.out),
]);
