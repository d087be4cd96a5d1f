// js-plugin: a Driftless component plugin in JavaScript, built with componentize-js
// against world `driftless:plugin/plugin@0.1.0` (see ../../wit/plugin.wit).
//
// Conventions of componentize-js used here:
//  * each exported WIT interface is an exported object named after it (camelCase);
//  * record fields are camelCase, enums are their kebab-case case names, `option<T>`
//    is the value or `undefined`, `u64` is a BigInt, a tuple is an array;
//  * a function returning `result<T, E>` may return `{ tag: 'ok', val }` or
//    `{ tag: 'err', val }`. Every result-returning function here returns one of those
//    explicitly: expected failures are `err` values with an error-kind, never exceptions,
//    and an unexpected exception is turned into an `err` of kind `failed` by `guard`.
//  * a resource is a class exported on its interface object; `open-*` return instances.

import { log, timestamp } from 'driftless:plugin/host@0.1.0';
import { get as stateGet, set as stateSet } from 'driftless:plugin/state@0.1.0';

const PLUGIN_NAME = 'js-plugin';
const PLUGIN_VERSION = '0.1.0';

// ---------------------------------------------------------------------------
// helpers

const ok = (val) => ({ tag: 'ok', val });
const err = (kind, message) => ({ tag: 'err', val: { kind, message } });

class PluginError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

// Runs fn and turns what it returns into `ok`, a PluginError into `err` of its kind,
// and anything else thrown into `err` of kind `failed` (so nothing traps).
function guard(fn) {
  try {
    return ok(fn());
  } catch (e) {
    if (e instanceof PluginError) return err(e.kind, e.message);
    return err('failed', `${PLUGIN_NAME}: unexpected error: ${e && e.message ? e.message : String(e)}`);
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Parses a config (JSON text). An empty config means `{}`. It must be a JSON object.
function parseConfig(text) {
  if (text === undefined || text.trim() === '') return {};
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new PluginError('invalid-config', `config is not valid JSON: ${e.message}`);
  }
  if (!isObject(v)) throw new PluginError('invalid-config', 'config must be a JSON object');
  return v;
}

// Rejects properties a schema does not list (mirrors `additionalProperties: false`).
function onlyKeys(config, allowed, what) {
  for (const k of Object.keys(config)) {
    if (!allowed.includes(k)) {
      throw new PluginError('invalid-config', `${what}: unknown config property "${k}"`);
    }
  }
}

function parseJsonValue(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PluginError('invalid-input', `${what} is not valid JSON: ${e.message}`);
  }
}

// ---------------------------------------------------------------------------
// state: the host keeps it for this plugin across calls and runs. Every call is one
// transaction: what a call sets is kept only if the call succeeds (and never in check
// mode), so a failed call leaves nothing half written.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

// The text stored under key, or undefined.
function getText(key) {
  const v = stateGet(key);
  return v === undefined ? undefined : utf8Decoder.decode(v);
}

// Stores text under key. A limit of the host (plugins.toml's max_state_*) refuses it
// with a plugin-error, which componentize-js throws: it becomes this call's error.
function setText(key, text) {
  try {
    stateSet(key, utf8Encoder.encode(text));
  } catch (e) {
    const p = e && e.payload;
    throw new PluginError('failed', p && p.message ? p.message : `cannot store ${key}: ${e}`);
  }
}

const schema = (obj) => JSON.stringify(obj);
const EMPTY_OBJECT_SCHEMA = schema({ type: 'object', properties: {}, additionalProperties: false });

// ---------------------------------------------------------------------------
// metadata

export const metadata = {
  describe() {
    return {
      name: PLUGIN_NAME,
      version: PLUGIN_VERSION,
      description:
        'Example JavaScript plugin: tasks (echo, set-value), a facts collector (runtime), ' +
        'template extensions (shout, greet) and log components (numbers, colon, min-level, bracket).',
    };
  },
};

// ---------------------------------------------------------------------------
// tasks

// `set-value` keeps the value it last applied to each key in state, under this prefix.
const APPLIED = 'set-value/';

const TASKS = [
  {
    name: 'echo',
    kind: 'apply',
    description: 'Returns its config unchanged: changed=false, message=config.message, output=the config.',
    configSchema: schema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { message: { type: 'string', description: 'Message to echo.' } },
      required: ['message'],
    }),
    supportsCheckMode: true,
  },
  {
    name: 'set-value',
    kind: 'apply',
    description:
      'Sets key to value. Changed only when the current value (config.current, else the value ' +
      'it last applied to key, kept in the plugin state) differs. Check mode reports the diff ' +
      'and changes nothing.',
    configSchema: schema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        key: { type: 'string', minLength: 1, description: 'Name of the value.' },
        value: { type: 'string', description: 'Desired value.' },
        current: { type: 'string', description: 'Current value, if known.' },
      },
      required: ['key', 'value'],
      additionalProperties: false,
    }),
    supportsCheckMode: true,
  },
];

function echoTask(configText) {
  const config = parseConfig(configText);
  if (typeof config.message !== 'string') {
    throw new PluginError('invalid-config', 'echo: "message" (string) is required');
  }
  return {
    changed: false,
    message: config.message,
    output: configText.trim(),
    diff: undefined,
  };
}

function setValueTask(configText, checkMode) {
  const config = parseConfig(configText);
  onlyKeys(config, ['key', 'value', 'current'], 'set-value');
  if (typeof config.key !== 'string' || config.key === '') {
    throw new PluginError('invalid-config', 'set-value: "key" must be a non-empty string');
  }
  if (typeof config.value !== 'string') {
    throw new PluginError('invalid-config', 'set-value: "value" must be a string');
  }
  if (config.current !== undefined && typeof config.current !== 'string') {
    throw new PluginError('invalid-config', 'set-value: "current" must be a string');
  }
  const { key, value } = config;
  const current = config.current !== undefined ? config.current : getText(APPLIED + key);
  const changed = current !== value;
  const output = JSON.stringify({ key, value, previous: current === undefined ? null : current, check_mode: checkMode });
  if (!changed) {
    return { changed: false, message: `${key} is already "${value}"`, output, diff: undefined };
  }
  const diff =
    `--- ${key}\n+++ ${key}\n` + (current === undefined ? '' : `-${current}\n`) + `+${value}\n`;
  if (checkMode) {
    log('info', `check mode: would set ${key}`);
    return { changed: true, message: `would set ${key} to "${value}"`, output, diff };
  }
  setText(APPLIED + key, value);
  log('info', `set ${key}`);
  return { changed: true, message: `set ${key} to "${value}"`, output, diff };
}

export const tasks = {
  definitions() {
    return TASKS;
  },
  execute(name, config, checkMode) {
    return guard(() => {
      switch (name) {
        case 'echo':
          return echoTask(config);
        case 'set-value':
          return setValueTask(config, checkMode);
        default:
          throw new PluginError('not-found', `no task named "${name}"`);
      }
    });
  },
};

// ---------------------------------------------------------------------------
// facts

export const facts = {
  collectors() {
    return [
      {
        name: 'runtime',
        description: 'Facts about the plugin runtime: engine, plugin name and version, host time.',
        configSchema: EMPTY_OBJECT_SCHEMA,
      },
    ];
  },
  collect(name, config) {
    return guard(() => {
      if (name !== 'runtime') throw new PluginError('not-found', `no facts collector named "${name}"`);
      onlyKeys(parseConfig(config), [], 'runtime');
      log('debug', 'collecting runtime facts');
      return JSON.stringify({
        engine: 'javascript',
        plugin: PLUGIN_NAME,
        version: PLUGIN_VERSION,
        timestamp: Number(timestamp()),
      });
    });
  },
};

// ---------------------------------------------------------------------------
// templates

const MAX_EXCLAMATIONS = 100;

export const templates = {
  extensions() {
    return [
      {
        name: 'shout',
        kind: 'filter',
        description: 'Uppercases a string; the optional argument appends that many "!".',
        category: 'string',
        arguments: [
          { name: 'exclamations', description: `How many "!" to append (0-${MAX_EXCLAMATIONS}).`, required: false },
        ],
        configSchema: EMPTY_OBJECT_SCHEMA,
      },
      {
        name: 'greet',
        kind: 'function',
        description: 'Returns "Hello, <name>!".',
        category: 'string',
        arguments: [{ name: 'name', description: 'Who to greet.', required: true }],
        configSchema: EMPTY_OBJECT_SCHEMA,
      },
    ];
  },
  applyFilter(name, config, value, args) {
    return guard(() => {
      if (name !== 'shout') throw new PluginError('not-found', `no template filter named "${name}"`);
      parseConfig(config);
      const v = parseJsonValue(value, 'shout: value');
      if (typeof v !== 'string') throw new PluginError('invalid-input', 'shout: value must be a string');
      if (args.length > 1) throw new PluginError('invalid-input', 'shout: takes at most one argument');
      let n = 0;
      if (args.length === 1) {
        n = parseJsonValue(args[0], 'shout: argument');
        if (!Number.isInteger(n) || n < 0 || n > MAX_EXCLAMATIONS) {
          throw new PluginError('invalid-input', `shout: argument must be an integer from 0 to ${MAX_EXCLAMATIONS}`);
        }
      }
      return JSON.stringify(v.toUpperCase() + '!'.repeat(n));
    });
  },
  callFunction(name, config, args) {
    return guard(() => {
      if (name !== 'greet') throw new PluginError('not-found', `no template function named "${name}"`);
      parseConfig(config);
      if (args.length !== 1) throw new PluginError('invalid-input', 'greet: takes exactly one argument (name)');
      const who = parseJsonValue(args[0], 'greet: name');
      if (typeof who !== 'string') throw new PluginError('invalid-input', 'greet: name must be a string');
      return JSON.stringify(`Hello, ${who}!`);
    });
  },
};

// ---------------------------------------------------------------------------
// logs

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];
const LEVEL_ALIASES = { warning: 'warn', err: 'error', fatal: 'error', critical: 'error' };

// Normalised level name, or undefined for a level this plugin does not know.
function normLevel(s) {
  if (typeof s !== 'string') return undefined;
  const l = s.toLowerCase();
  if (LEVELS.includes(l)) return l;
  return LEVEL_ALIASES[l];
}

// `numbers`: the lines "line 1" to "line <count>", resuming where an earlier run
// stopped. The cursor (the last line read) is kept in state under "cursor/<cursor>",
// read at every call rather than remembered here: a call's new cursor is kept only
// when the call succeeds, so a pipeline stopped at any point and run again reads no
// line twice and skips none.
//
// `spin_every` (a test aid, default 0: never) makes every Nth call of an instance
// loop for ever after it wrote its new cursor, until the host stops it at its fuel or
// time limit: the call fails, its write is discarded, and a pipeline that restarts the
// source on a fresh instance (`resume = true`) reads on from the same cursor. The count
// is the instance's own, as a fault's cause would be: a fresh instance starts at 0.
class Source {
  constructor(cursor, count, spinEvery) {
    this.key = `cursor/${cursor}`;
    this.count = count;
    this.spinEvery = spinEvery;
    this.calls = 0;
  }
  next(max) {
    this.calls++;
    const spin = this.spinEvery > 0 && this.calls % this.spinEvery === 0;
    return guard(() => {
      const text = getText(this.key);
      const done = text === undefined ? 0 : Number(text);
      if (!Number.isSafeInteger(done) || done < 0) {
        throw new PluginError('failed', `numbers: the cursor in state (${this.key}) is not a line number: ${text}`);
      }
      const upto = Math.min(this.count, done + max);
      const entries = [];
      for (let n = done + 1; n <= upto; n++) {
        entries.push({ timestamp: 0n, level: 'info', message: `line ${n}`, source: '', fields: [['n', String(n)]] });
      }
      if (upto > done) setText(this.key, String(upto));
      if (spin) for (;;);
      return entries;
    });
  }
}

// `LEVEL: message` lines; anything else is dropped (none).
class Parser {
  parse(lines) {
    return guard(() =>
      lines.map((line) => {
        const m = /^\s*([A-Za-z]+):\s?(.*)$/.exec(line);
        if (!m) return undefined;
        const level = normLevel(m[1]);
        if (level === undefined) return undefined;
        return { timestamp: 0n, level, message: m[2], source: '', fields: [] };
      }),
    );
  }
}

// Keeps entries at or above a level; entries without a level (or with one this plugin
// does not know) are kept.
class Filter {
  constructor(minLevel) {
    this.min = LEVELS.indexOf(minLevel);
  }
  keep(entries) {
    return guard(() =>
      entries.map((e) => {
        const l = normLevel(e.level);
        return l === undefined || LEVELS.indexOf(l) >= this.min;
      }),
    );
  }
}

// `[LEVEL] message`; `[-] message` for an entry without a level.
class Output {
  write(entries) {
    return guard(() => entries.map((e) => `[${e.level ? e.level.toUpperCase() : '-'}] ${e.message}`));
  }
}

const LOG_COMPONENTS = [
  {
    name: 'numbers',
    kind: 'source',
    description:
      'Emits "line 1" to "line <count>" (field n: the number), resuming after the last line an ' +
      'earlier run read: its cursor is kept in the plugin state under "cursor/<cursor>".',
    configSchema: schema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        count: { type: 'integer', minimum: 0, maximum: 1000000000, description: 'The last line number.' },
        cursor: {
          type: 'string',
          minLength: 1,
          maxLength: 100,
          default: 'numbers',
          description: 'Name of the cursor: sources with different cursors resume independently.',
        },
        spin_every: {
          type: 'integer',
          minimum: 0,
          maximum: 1000000,
          default: 0,
          description:
            'Test aid: every Nth call of an instance loops until the host stops it (fuel or ' +
            'timeout), after writing its new cursor (discarded with the failed call); 0: never.',
        },
      },
      required: ['count'],
      additionalProperties: false,
    }),
  },
  {
    name: 'colon',
    kind: 'parser',
    description: 'Parses "LEVEL: message" lines (levels trace..error, warning, fatal, ...); other lines are dropped.',
    configSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'min-level',
    kind: 'filter',
    description: 'Keeps entries whose level is at least config.level; entries without a level are kept.',
    configSchema: schema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { level: { type: 'string', enum: LEVELS } },
      required: ['level'],
      additionalProperties: false,
    }),
  },
  {
    name: 'bracket',
    kind: 'output',
    description: 'Renders entries as "[LEVEL] message".',
    configSchema: EMPTY_OBJECT_SCHEMA,
  },
];

function notFound(kind, name) {
  return new PluginError('not-found', `no log ${kind} named "${name}"`);
}

export const logs = {
  Source,
  Parser,
  Filter,
  Output,
  components() {
    return LOG_COMPONENTS;
  },
  openSource(name, config) {
    return guard(() => {
      if (name !== 'numbers') throw notFound('source', name);
      const c = parseConfig(config);
      onlyKeys(c, ['count', 'cursor', 'spin_every'], 'numbers');
      if (!Number.isSafeInteger(c.count) || c.count < 0) {
        throw new PluginError('invalid-config', 'numbers: "count" must be a non-negative integer');
      }
      const cursor = c.cursor === undefined ? 'numbers' : c.cursor;
      if (typeof cursor !== 'string' || cursor === '') {
        throw new PluginError('invalid-config', 'numbers: "cursor" must be a non-empty string');
      }
      const spinEvery = c.spin_every === undefined ? 0 : c.spin_every;
      if (!Number.isSafeInteger(spinEvery) || spinEvery < 0) {
        throw new PluginError('invalid-config', 'numbers: "spin_every" must be a non-negative integer');
      }
      return new Source(cursor, c.count, spinEvery);
    });
  },
  openParser(name, config) {
    return guard(() => {
      if (name !== 'colon') throw notFound('parser', name);
      onlyKeys(parseConfig(config), [], 'colon');
      return new Parser();
    });
  },
  openFilter(name, config) {
    return guard(() => {
      if (name !== 'min-level') throw notFound('filter', name);
      const c = parseConfig(config);
      onlyKeys(c, ['level'], 'min-level');
      if (!LEVELS.includes(c.level)) {
        throw new PluginError('invalid-config', `min-level: "level" must be one of ${LEVELS.join(', ')}`);
      }
      return new Filter(c.level);
    });
  },
  openOutput(name, config) {
    return guard(() => {
      if (name !== 'bracket') throw notFound('output', name);
      onlyKeys(parseConfig(config), [], 'bracket');
      return new Output();
    });
  },
};
