#!/usr/bin/env node
// Builds a JavaScript WebAssembly component with the pinned componentize-js.
//
//   node tools/npm/componentize.mjs --source SRC.js --wit WIT_DIR --world WORLD --out OUT.wasm
//
// Lives here (not in an example) so that its imports resolve against tools/npm/node_modules.
//
// Two things this wrapper does that the componentize-js CLI does not:
//  * preview2-shim may start with no preopened directories: the pinned 0.17.9 (package.json)
//    preopens / when it is imported, but other versions start with none. componentize-js reads
//    the WIT files through that shim, which then fails with "failed to find a pre-opened file
//    descriptor"; setting the root preopen here first (_setPreopens) works with either.
//  * The WASI features the Driftless host does not provide are switched off: `http` and
//    `fetch-event` would make the component import wasi:http, which the host refuses.
//    `stdio`, `random` and `clocks` stay (console.* goes to wasi:cli stderr/stdout).

import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { componentize } from '@bytecodealliance/componentize-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

function fail(msg) {
  console.error(`componentize: ${msg}`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    source: { type: 'string' },
    wit: { type: 'string' },
    world: { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});
for (const k of ['source', 'wit', 'world', 'out']) {
  if (!values[k]) fail(`missing --${k}`);
}

_setPreopens({ '/': '/' });

const started = Date.now();
let result;
try {
  const opts = {
    sourcePath: resolve(values.source),
    witPath: resolve(values.wit),
    worldName: values.world,
    disableFeatures: ['http', 'fetch-event'],
  };
  result = await componentize(opts);
} catch (e) {
  fail(`componentize-js failed for ${values.source} (world ${values.world}): ${e && e.stack ? e.stack : e}`);
}

const out = resolve(values.out);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, result.component);
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.error(
  `componentize: wrote ${values.out} (${(result.component.length / 1e6).toFixed(1)} MB, ${secs} s)`,
);
