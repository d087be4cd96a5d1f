// ts-plugin: a Driftless component plugin in TypeScript.
//
// World `driftless-examples:ts-plugin/ts-plugin` (../wit/world.wit): imports
// driftless:plugin/host, exports metadata, tasks and templates. The types come from
// the WIT: `jco guest-types` writes them into ../generated/ at build time, and tsc
// checks every export against them, so a wrong field name, a missing function or a
// wrong result type fails the build instead of the plugin at run time.
//
//   task     set-json  sets a value at a dot path in a JSON document (check mode, diff)
//   filter   pad       {{ "7" | pad(3, "0") }} -> "007"
//   function plural    {{ plural(3, "file") }} -> "3 files"
//
// componentize-js conventions (see the generated .d.ts): a function returning
// `result<T, plugin-error>` returns T, and fails by throwing an object whose `payload`
// is the plugin-error. `fail` below does that; `guard` turns anything else thrown into
// an error of kind `failed`, because an exception without a payload traps.

import { log } from 'driftless:plugin/host@0.1.0';
import type * as Metadata from 'driftless:plugin/metadata@0.1.0';
import type * as Tasks from 'driftless:plugin/tasks@0.1.0';
import type * as Templates from 'driftless:plugin/templates@0.1.0';
import type { ErrorKind, PluginError } from 'driftless:plugin/types@0.1.0';

const PLUGIN_NAME = 'ts-plugin';
const PLUGIN_VERSION = '0.1.0';

// ---------------------------------------------------------------------------
// errors

/** What a result-returning export throws for `err(plugin-error)`. */
class PluginFailure extends Error {
  readonly payload: PluginError;
  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.payload = { kind, message };
  }
}

function fail(kind: ErrorKind, message: string): never {
  throw new PluginFailure(kind, message);
}

/** Runs fn; anything it throws that is not a PluginFailure becomes one of kind `failed`. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PluginFailure) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new PluginFailure('failed', `${PLUGIN_NAME}: unexpected error: ${why}`);
  }
}

// ---------------------------------------------------------------------------
// JSON

type Json = null | boolean | number | string | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

const isObject = (v: Json | undefined): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function parseJson(text: string, kind: ErrorKind, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    return fail(kind, `${what} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A config as an object; an empty config is `{}`. */
function parseConfig(text: string, item: string): JsonObject {
  const v = text.trim() === '' ? {} : parseJson(text, 'invalid-config', `${item}: config`);
  return isObject(v) ? v : fail('invalid-config', `${item}: config must be a JSON object`);
}

const schema = (s: JsonObject): string => JSON.stringify(s);
const NO_CONFIG = schema({ type: 'object', properties: {}, additionalProperties: false });

// ---------------------------------------------------------------------------
// metadata

export const metadata = {
  describe() {
    return {
      name: PLUGIN_NAME,
      version: PLUGIN_VERSION,
      description: 'Example TypeScript plugin: task set-json (check mode), filter pad, function plural.',
    };
  },
} satisfies typeof Metadata;

// ---------------------------------------------------------------------------
// tasks

interface SetJsonConfig {
  document: JsonObject;
  path: string[];
  value: Json;
}

function setJsonConfig(text: string): SetJsonConfig {
  const c = parseConfig(text, 'set-json');
  const document = c['document'] ?? {};
  if (!isObject(document)) fail('invalid-config', 'set-json: "document" must be a JSON object');
  const path = c['path'];
  if (typeof path !== 'string' || path === '') fail('invalid-config', 'set-json: "path" must be a non-empty string');
  const parts = path.split('.');
  if (parts.some((p) => p === '')) fail('invalid-config', `set-json: path "${path}" has an empty part`);
  if (!('value' in c)) fail('invalid-config', 'set-json: "value" is required');
  return { document, path: parts, value: c['value'] ?? null };
}

/** Structural equality of two JSON values (object key order does not matter). */
function equal(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

function setJson(configText: string, checkMode: boolean): Tasks.TaskResult {
  const { document, path, value } = setJsonConfig(configText);
  // A copy: in check mode nothing is changed, and the input is never modified.
  const result = JSON.parse(JSON.stringify(document)) as JsonObject;
  let node: JsonObject = result;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const next = node[key];
    if (next === undefined) {
      node = node[key] = {};
    } else if (isObject(next)) {
      node = next;
    } else {
      fail('invalid-config', `set-json: ${path.slice(0, i + 1).join('.')} is not an object`);
    }
  }
  const last = path[path.length - 1] ?? fail('failed', 'set-json: empty path');
  const old = node[last];
  const changed = !equal(old, value);
  node[last] = value;
  const dotted = path.join('.');
  const message = !changed
    ? `${dotted} is already ${JSON.stringify(value)}`
    : `${checkMode ? 'would set' : 'set'} ${dotted} to ${JSON.stringify(value)}`;
  log('info', message);
  const result_: Tasks.TaskResult = {
    changed,
    message,
    output: JSON.stringify({ document: changed ? result : document, check_mode: checkMode }),
  };
  if (changed) {
    const before = old === undefined ? '' : `-${JSON.stringify(old)}\n`;
    result_.diff = `--- ${dotted}\n+++ ${dotted}\n${before}+${JSON.stringify(value)}\n`;
  }
  return result_;
}

const TASKS: Tasks.TaskDefinition[] = [
  {
    name: 'set-json',
    kind: 'apply',
    description:
      'Sets `value` at the dot path `path` of a JSON object `document` (creating objects on ' +
      'the way); changed when the value there differs. The new document is the output.',
    configSchema: schema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        document: { type: 'object', description: 'The JSON object to change (default {}).' },
        path: { type: 'string', minLength: 1, description: 'Dot path, e.g. "server.port".' },
        value: { description: 'Any JSON value.' },
      },
      required: ['path', 'value'],
      additionalProperties: false,
    }),
    supportsCheckMode: true,
  },
];

export const tasks = {
  definitions: () => TASKS,
  execute(name: string, config: string, checkMode: boolean): Tasks.TaskResult {
    return guard(() => {
      switch (name) {
        case 'set-json':
          return setJson(config, checkMode);
        default:
          return fail('not-found', `no task named "${name}"`);
      }
    });
  },
} satisfies typeof Tasks;

// ---------------------------------------------------------------------------
// templates

const EXTENSIONS: Templates.ExtensionDefinition[] = [
  {
    name: 'pad',
    kind: 'filter',
    description: 'Pads a string (or number) on the left to `width` characters with `fill`.',
    category: 'string',
    arguments: [
      { name: 'width', description: 'The width, 0 to 1000.', required: true },
      { name: 'fill', description: 'One character (default " ").', required: false },
    ],
    configSchema: NO_CONFIG,
  },
  {
    name: 'plural',
    kind: 'function',
    description: '"1 file", "3 files": the count and the singular or plural noun.',
    category: 'string',
    arguments: [
      { name: 'count', description: 'An integer.', required: true },
      { name: 'singular', description: 'The noun for one.', required: true },
      { name: 'plural', description: 'The noun for other counts (default singular + "s").', required: false },
    ],
    configSchema: NO_CONFIG,
  },
];

/** Argument i as JSON; `null` (a gap left by keyword arguments) is undefined. */
function arg(args: string[], i: number, what: string): Json | undefined {
  const text = args[i];
  if (text === undefined) return undefined;
  const v = parseJson(text, 'invalid-input', what);
  return v === null ? undefined : v;
}

function pad(value: string, args: string[]): string {
  const v = parseJson(value, 'invalid-input', 'pad: value');
  if (typeof v !== 'string' && typeof v !== 'number') fail('invalid-input', 'pad: value must be a string or a number');
  const width = arg(args, 0, 'pad: width');
  if (typeof width !== 'number' || !Number.isInteger(width) || width < 0 || width > 1000) {
    fail('invalid-input', 'pad: width must be an integer from 0 to 1000');
  }
  const fill = arg(args, 1, 'pad: fill') ?? ' ';
  if (typeof fill !== 'string' || [...fill].length !== 1) fail('invalid-input', 'pad: fill must be one character');
  return String(v).padStart(width, fill);
}

function plural(args: string[]): string {
  const count = arg(args, 0, 'plural: count');
  const singular = arg(args, 1, 'plural: singular');
  const pluralForm = arg(args, 2, 'plural: plural');
  if (typeof count !== 'number' || !Number.isInteger(count)) fail('invalid-input', 'plural: count must be an integer');
  if (typeof singular !== 'string') fail('invalid-input', 'plural: singular must be a string');
  if (pluralForm !== undefined && typeof pluralForm !== 'string') fail('invalid-input', 'plural: plural must be a string');
  return `${count} ${count === 1 ? singular : (pluralForm ?? `${singular}s`)}`;
}

export const templates = {
  extensions: () => EXTENSIONS,
  applyFilter(name: string, config: string, value: string, args: string[]): string {
    return guard(() => {
      parseConfig(config, name);
      if (name !== 'pad') return fail('not-found', `no template filter named "${name}"`);
      return JSON.stringify(pad(value, args));
    });
  },
  callFunction(name: string, config: string, args: string[]): string {
    return guard(() => {
      parseConfig(config, name);
      if (name !== 'plural') return fail('not-found', `no template function named "${name}"`);
      return JSON.stringify(plural(args));
    });
  },
} satisfies typeof Templates;
