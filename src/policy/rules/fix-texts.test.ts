/**
 * Every fix a rule suggests names things that exist: each `--flag` is an option of a waybill
 * command, each `key in waybill.yaml` is a key of the config file. A fix that names a key nobody
 * can set sends a user in circles (there was once a "waybill.yaml trust" key in a fix text, and no
 * such key).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/main.ts';
import { CONFIG_SPEC, type FieldSpec } from '../../config/schema.ts';

const RULES_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The string literals of the rule modules (comments are not fixes). */
function ruleStrings(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(RULES_DIR)) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    const source = readFileSync(`${RULES_DIR}${name}`, 'utf8');
    for (const m of source.matchAll(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g)) out.push(m[0]);
  }
  return out;
}

function allLongOptions(program: Command): Set<string> {
  const names = new Set<string>();
  const visit = (c: Command) => {
    for (const o of c.options) if (o.long) names.add(o.long);
    for (const sub of c.commands) visit(sub);
  };
  visit(program);
  return names;
}

function configHasKey(path: string): boolean {
  let spec: FieldSpec | undefined = CONFIG_SPEC;
  for (const part of path.split('.')) {
    if (spec?.kind === 'list') spec = spec.item;
    spec = spec?.kind === 'map' ? spec.fields[part] : undefined;
    if (!spec) return false;
  }
  return true;
}

test('every --flag in a fix text is an option of a waybill command', async () => {
  const options = allLongOptions(await buildProgram(() => undefined));
  const named = new Set(
    ruleStrings().flatMap((s) => [...s.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0])),
  );
  assert.ok(named.has('--allowed-signers') && named.has('--trusted-gpg-key'), 'the scan sees the fix texts');
  for (const flag of named) assert.ok(options.has(flag), `${flag} is named in a fix but no command has it`);
});

test('every waybill.yaml key in a fix text is a key of the config file', () => {
  const keys = new Set(
    ruleStrings().flatMap((s) =>
      [...s.matchAll(/([A-Za-z][\w.]*) (?:in|to|of) waybill\.yaml/g)].map((m) => m[1] as string),
    ),
  );
  assert.ok(keys.has('source.allowedSigners'), 'the scan sees the fix texts');
  for (const key of keys) assert.ok(configHasKey(key), `${key} is named as a waybill.yaml key but is none`);
});
