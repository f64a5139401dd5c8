/**
 * yarn.lock, both formats:
 *
 * - yarn v1 ("classic"): yarn's own indented syntax. Each entry is headed by the comma-separated
 *   specifiers that resolve to it (`"ms@^2.1.1", ms@2.1.3:`), followed by two-space-indented
 *   `field value` lines and `dependencies:` blocks (`ms "2.1.2"`), values JSON-quoted when needed.
 *   Read by the small strict parser below: the published parser (`@yarnpkg/lockfile`) is yarn 1's
 *   frozen 2018 build, and `@yarnpkg/parsers` brings a second YAML library (js-yaml) and a generated
 *   PEG grammar for what is a handful of line rules.
 * - yarn berry (v2+): YAML with a `__metadata` entry, read with `yaml`. Keys are descriptors with a
 *   protocol (`ms@npm:^2.1.1`); `resolution` names the package the descriptors resolved to. Its
 *   `checksum` hashes yarn's own zip of the package, not the npm tarball, so it is not a tarball hash.
 *
 * Neither records dev or install paths: entries are name@version with edges resolved through the
 * specifiers that head the entries.
 */

import {
  type LockedPackage,
  LockedSet,
  lockedId,
  malformedLock,
  parseLockYaml,
  splitAtVersion,
} from './npm-flat-lock.ts';
import { isObject, type Json, str } from './npm-lockfile.ts';

/** yarn v1 nests at most `entry → dependencies → name`; deeper is not a lockfile yarn wrote. */
const MAX_V1_DEPTH = 4;

function unquote(token: string, path: string, line: number): string {
  if (!token.startsWith('"')) return token;
  try {
    const value: unknown = JSON.parse(token);
    if (typeof value === 'string') return value;
  } catch {
    // reported below
  }
  throw malformedLock(path, `line ${line}: bad quoted string`);
}

/** `"a b", c` → the tokens, honouring JSON quotes (a key may contain spaces or commas when quoted). */
function splitKeys(text: string, path: string, line: number): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[^\s,"]+)\s*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw malformedLock(path, `line ${line}: bad entry key`);
    out.push(unquote(m[1]!, path, line));
    at = re.lastIndex;
    if (m[2] === '') break;
  }
  if (out.length === 0) throw malformedLock(path, `line ${line}: empty entry key`);
  return out;
}

export type YarnV1Value = string | boolean | YarnV1Object;
export interface YarnV1Object {
  [key: string]: YarnV1Value;
}

/**
 * A yarn v1 lockfile's text → its object (each specifier of a heading maps to the same entry object),
 * as yarn's own parser returns it. Throws a MALFORMED WaybillError naming `path` and the line.
 */
export function parseYarnV1(text: string, path: string): Record<string, YarnV1Object> {
  const root: YarnV1Object = Object.create(null);
  // stack[d] is the object that lines indented 2*d spaces belong to.
  const stack: YarnV1Object[] = [root];
  let lineNo = 0;
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    lineNo++;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    if (indent % 2 !== 0 || raw[indent - 1] === '\t')
      throw malformedLock(path, `line ${lineNo}: bad indentation`);
    const depth = indent / 2;
    if (depth >= stack.length) throw malformedLock(path, `line ${lineNo}: indented past its parent`);
    stack.length = depth + 1;
    const parent = stack[depth]!;
    const body = raw.trim();
    if (body.endsWith(':')) {
      // A block: an entry heading at the top, else a field holding a map (`dependencies:`).
      if (depth + 1 >= MAX_V1_DEPTH) throw malformedLock(path, `line ${lineNo}: nested too deep`);
      const keys =
        depth === 0 ? splitKeys(body.slice(0, -1), path, lineNo) : [unquote(body.slice(0, -1), path, lineNo)];
      const block: YarnV1Object = Object.create(null);
      for (const key of keys) {
        if (key in parent)
          throw malformedLock(path, `line ${lineNo}: duplicate key ${JSON.stringify(key.slice(0, 100))}`);
        parent[key] = block;
      }
      stack.push(block);
      continue;
    }
    if (depth === 0) throw malformedLock(path, `line ${lineNo}: expected an entry heading ending in ':'`);
    const m = /^("(?:[^"\\]|\\.)*"|[^\s"]+)\s+(.+)$/.exec(body);
    if (!m) throw malformedLock(path, `line ${lineNo}: expected 'key value'`);
    const key = unquote(m[1]!, path, lineNo);
    const valueText = m[2]!;
    if (key in parent)
      throw malformedLock(path, `line ${lineNo}: duplicate key ${JSON.stringify(key.slice(0, 100))}`);
    if (!valueText.startsWith('"') && /\s/.test(valueText))
      throw malformedLock(path, `line ${lineNo}: unquoted value with spaces`);
    parent[key] =
      valueText === 'true' ? true : valueText === 'false' ? false : unquote(valueText, path, lineNo);
  }
  return root as Record<string, YarnV1Object>;
}

/** `foo@npm:bar@^1` (an alias) → `bar`; `ms@^2` → `ms`. */
function realName(name: string, range: string): string {
  if (range.startsWith('npm:')) {
    const aliased = splitAtVersion(range.slice(4));
    if (aliased) return aliased[0];
  }
  return name;
}

function depsOf(entry: Json): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const field of ['dependencies', 'optionalDependencies']) {
    const deps = entry[field];
    if (!isObject(deps)) continue;
    for (const [name, range] of Object.entries(deps)) if (typeof range === 'string') out.push([name, range]);
  }
  return out;
}

function fromV1(lock: Record<string, YarnV1Object>): LockedPackage[] {
  // Specifier → name@version of the entry it heads.
  const resolved = new Map<string, string>();
  const entries = new Map<YarnV1Object, { name: string; version: string }>();
  for (const [spec, entry] of Object.entries(lock)) {
    const split = splitAtVersion(spec);
    const version = str(entry.version);
    if (!split || !version || !isObject(entry)) continue;
    const name = realName(split[0], split[1]);
    resolved.set(spec, lockedId(name, version));
    if (!entries.has(entry)) entries.set(entry, { name, version });
  }
  const set = new LockedSet();
  for (const [entry, { name, version }] of entries) {
    const dependsOn: string[] = [];
    for (const [depName, range] of depsOf(entry)) {
      const id = resolved.get(`${depName}@${range}`);
      if (id) dependsOn.push(id);
    }
    const integrity = str(entry.integrity);
    set.add({ name, version, ...(integrity ? { integrity } : {}), optional: false, dependsOn });
  }
  return set.packages();
}

function fromBerry(lock: Json): LockedPackage[] {
  const resolved = new Map<string, string>();
  const entries: Array<{ name: string; version: string; entry: Json }> = [];
  for (const [specs, entry] of Object.entries(lock)) {
    if (specs === '__metadata' || !isObject(entry)) continue;
    const resolution = str(entry.resolution);
    const version = str(entry.version);
    const split = resolution ? splitAtVersion(resolution) : undefined;
    // The project's own workspaces and linked folders (`link:`, `portal:`) are not packages it locks.
    if (!split || !version || split[1].startsWith('workspace:') || entry.linkType === 'soft') continue;
    const id = lockedId(split[0], version);
    for (const spec of specs.split(',')) resolved.set(spec.trim(), id);
    entries.push({ name: split[0], version, entry });
  }
  const set = new LockedSet();
  for (const { name, version, entry } of entries) {
    const dependsOn: string[] = [];
    for (const [depName, range] of depsOf(entry)) {
      // yarn 2 wrote `ms: 2.1.2` for what its keys spell `ms@npm:2.1.2`.
      const id = resolved.get(`${depName}@${range}`) ?? resolved.get(`${depName}@npm:${range}`);
      if (id) dependsOn.push(id);
    }
    set.add({ name, version, optional: false, dependsOn });
  }
  return set.packages();
}

/** Whether the text is yarn berry's YAML (its `__metadata` entry) rather than yarn v1's syntax. */
function isBerry(text: string): boolean {
  return /^__metadata:\s*$/m.test(text);
}

/** The packages a yarn.lock (v1 or berry) locks; throws a MALFORMED WaybillError naming `path`. */
export function yarnLockPackages(text: string, path: string): LockedPackage[] {
  if (!isBerry(text)) return fromV1(parseYarnV1(text, path));
  return fromBerry(parseLockYaml(text, path));
}
