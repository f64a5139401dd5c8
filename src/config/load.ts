/**
 * Loading `waybill.yaml`. The YAML is parsed into a node tree with source ranges (the `yaml` package),
 * then walked against CONFIG_SPEC, so every problem points at a line and column:
 * `waybill.yaml:12:3: team.name: expected a non-empty string, got 42`. Unknown keys are errors
 * (a typo must not silently drop a setting) with a "did you mean" when one is close.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { WaybillError } from '../errors.ts';
import { parseDuration } from '../provenance/build/recipe.ts';
import { readRegularFile } from '../util/regular-file.ts';
import { CONFIG_SPEC, type Config, DEFAULT_LICENSE, type FieldSpec } from './schema.ts';
import { suggestKey } from './suggest.ts';

export const CONFIG_FILE_NAME = 'waybill.yaml';
/** A config is a page of text; a megabyte is not a config, and refusing it bounds parse time. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

interface Where {
  file: string;
  lines: LineCounter;
}

function fail(where: Where, offset: number, field: string, reason: string): never {
  const { line, col } = where.lines.linePos(Math.max(0, offset));
  throw new WaybillError('CONFIG', `${where.file}:${line}:${col}`, field ? `${field}: ${reason}` : reason);
}

function startOf(node: unknown): number {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : 0;
}

/** What a user wrote, for "got …": a quoted string, a number, null, "a mapping", "a list". */
function describeNode(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
    // `team:` with nothing after it is an empty scalar; `team: null` or `team: ~` is an explicit null.
    if (v === null) return node.range && node.range[0] === node.range[1] ? 'nothing' : 'null';
    return String(v);
  }
  return 'an unsupported YAML node';
}

function child(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function isNullNode(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** Walks one node against its spec and returns the plain value. */
function convert(node: unknown, spec: FieldSpec, path: string, where: Where): unknown {
  if (isAlias(node))
    fail(where, startOf(node), path, 'YAML aliases (*name) are not supported in waybill.yaml');
  const wrong = (): never =>
    fail(where, startOf(node), path, `expected ${spec.expected}, got ${describeNode(node)}`);
  switch (spec.kind) {
    case 'string': {
      if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') return wrong();
      if (spec.check && !spec.check(node.value)) return wrong();
      return node.value;
    }
    case 'boolean':
      return isScalar(node) && typeof node.value === 'boolean' ? node.value : wrong();
    case 'literal':
      return isScalar(node) && node.value === spec.value ? spec.value : wrong();
    case 'enum':
      return isScalar(node) && typeof node.value === 'string' && spec.values.includes(node.value)
        ? node.value
        : wrong();
    case 'duration': {
      if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number'))
        return wrong();
      const seconds = parseDuration(node.value);
      return seconds !== undefined && seconds <= spec.max ? seconds : wrong();
    }
    case 'list': {
      if (!isSeq(node)) return wrong();
      return node.items.map((item, i) => convert(item, spec.item, `${path}[${i}]`, where));
    }
    case 'map': {
      if (!isMap(node)) return wrong();
      const out: Record<string, unknown> = {};
      const known = Object.keys(spec.fields);
      for (const pair of node.items) {
        if (
          !isPair(pair) ||
          !isScalar(pair.key) ||
          pair.key.value === null ||
          typeof pair.key.value === 'object'
        ) {
          fail(where, startOf(isPair(pair) ? pair.key : pair), path, 'keys must be plain names');
        }
        const key = String(pair.key.value);
        const field = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
        if (field === undefined) {
          const guess = suggestKey(key, known);
          const hint = guess ? ` (did you mean "${guess}"?)` : ` (known keys: ${known.join(', ')})`;
          fail(where, startOf(pair.key), child(path, key), `unknown key${hint}`);
        }
        // `docs:` with nothing after it means "not set" for an optional key; required keys need a value.
        if (isNullNode(pair.value) && !spec.required.includes(key)) continue;
        const valueNode = pair.value ?? pair.key;
        out[key] = convert(valueNode, field, child(path, key), where);
      }
      for (const key of spec.required) {
        if (!(key in out)) {
          const field = spec.fields[key];
          fail(where, startOf(node), child(path, key), `missing (expected ${field?.expected ?? 'a value'})`);
        }
      }
      return out;
    }
  }
}

/**
 * Parses config text. `file` is what error messages name; `baseDir` becomes `Config.baseDir`
 * (relative paths in the file are relative to it).
 */
export function parseConfigText(text: string, file: string, baseDir?: string): Config {
  const where: Where = { file, lines: new LineCounter() };
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, {
      lineCounter: where.lines,
      prettyErrors: false,
      uniqueKeys: true,
      version: '1.2',
    });
  } catch (e) {
    // The parser should report problems in doc.errors; anything thrown (deep nesting) is still bad input.
    throw new WaybillError(
      'CONFIG',
      file,
      `cannot parse YAML: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  const syntax = doc.errors[0];
  if (syntax) fail(where, syntax.pos[0], '', `YAML syntax error: ${syntax.message.split('\n')[0]}`);
  if (isNullNode(doc.contents)) {
    fail(where, 0, '', 'the file is empty; expected a mapping with at least version, team and help');
  }
  const config = convert(doc.contents, CONFIG_SPEC, '', where) as Config;
  config.license ??= DEFAULT_LICENSE;
  if (baseDir !== undefined) config.baseDir = baseDir;
  return config;
}

/**
 * Reads a small UTF-8 text file the user named (a config or a policy): a regular file of at most
 * MAX_CONFIG_BYTES. A missing file is NOT_FOUND; a device, FIFO, directory, huge or non-UTF-8 file is
 * CONFIG, refused before it is read (a FIFO would block, a device never ends).
 */
export async function readConfigText(path: string): Promise<string> {
  const bytes = await readRegularFile(path, { maxBytes: MAX_CONFIG_BYTES, code: 'CONFIG' }).catch(
    (e: unknown) => {
      if (!(e instanceof WaybillError)) throw e;
      if (e.code === 'NOT_FOUND' && e.reason === 'no such file')
        throw new WaybillError('NOT_FOUND', path, 'no such config file');
      if (e.code === 'LIMIT')
        throw new WaybillError(
          'CONFIG',
          path,
          `is larger than ${MAX_CONFIG_BYTES} bytes; not a waybill config`,
        );
      throw e;
    },
  );
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new WaybillError('CONFIG', path, 'is not valid UTF-8 text', { cause: e });
  }
}

/** Loads and checks a config file. A missing file is NOT_FOUND; anything wrong inside it is CONFIG. */
export async function loadConfig(path: string): Promise<Config> {
  return parseConfigText(await readConfigText(path), path, dirname(resolve(path)));
}

async function exists(path: string): Promise<'file' | 'other' | undefined> {
  try {
    return (await stat(path)).isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

/**
 * Finds `waybill.yaml` for a command run in `startDir`: that directory first, then its parents up to
 * and including the enclosing git work tree's root (where `.git` is). Outside a git work tree only
 * `startDir` itself is looked at, so a stray file in a home directory is never picked up.
 */
export async function findConfig(startDir: string): Promise<string | undefined> {
  const start = resolve(startDir);
  const chain: string[] = [];
  let gitRoot: string | undefined;
  for (let dir = start; ; dir = dirname(dir)) {
    chain.push(dir);
    if ((await exists(join(dir, '.git'))) !== undefined) {
      gitRoot = dir;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  for (const dir of gitRoot === undefined ? [start] : chain) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if ((await exists(candidate)) === 'file') return candidate;
  }
  return undefined;
}
