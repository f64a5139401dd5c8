/**
 * Policy overrides as written in YAML (a `policy:` section of waybill.yaml, or a policy file):
 *
 *   levels: { dates: warn, signed-source: off }
 *   allowedLicenses: [Apache-2.0, MIT]
 *   communityPhrases: { add: ["the Acme collective"] }
 *   requireSignatures: true
 *   trust: { allowedSigners: ./allowed_signers }      (trust.ts)
 *
 * Parsed into a Policy; anything else is a CONFIG error naming the key.
 */

import { WaybillError } from '../errors.ts';
import { compilePhrase } from './community-wording.ts';
import { parseLicenseExpression } from './spdx-license.ts';
import { parseTrust } from './trust.ts';
import { DEFAULT_ALLOWED_LICENSES, LEVELS, type Level, type Policy, RULE_IDS, type RuleId } from './types.ts';

// `rules` is the spelling of waybill.yaml's policy section; `levels` is kept as its synonym, so the
// `policy:` section of waybill.yaml can be copied into a policy file as it is.
const TOP_KEYS = ['rules', 'levels', 'allowedLicenses', 'communityPhrases', 'requireSignatures', 'trust'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** "did you mean" for a near-miss spelling (case, separators, a typo or two), else the valid keys. */
function suggestion(key: string, candidates: readonly string[]): string {
  const squash = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const hit = candidates.find((c) => squash(c) === squash(key) || editDistance(squash(c), squash(key)) <= 2);
  return hit ? ` (did you mean ${hit}?)` : ` (expected one of: ${candidates.join(', ')})`;
}

function stringList(v: unknown, where: string, fail: (reason: string) => WaybillError): string[] {
  if (!Array.isArray(v)) throw fail(`${where} must be a list of strings, not ${describe(v)}`);
  return v.map((item, i) => {
    if (typeof item !== 'string' || item.trim() === '') {
      throw fail(`${where}[${i}] must be a non-empty string, not ${describe(item)}`);
    }
    return item.trim();
  });
}

/**
 * @param raw the parsed YAML value (undefined/null: the default policy)
 * @param source the file it came from, for error messages
 * @param keyPrefix where the policy sits in that file (`policy` for the waybill.yaml section)
 * @param baseDir what relative paths in `trust` are relative to (the file's directory)
 */
export function parsePolicy(raw: unknown, source = 'policy', keyPrefix = '', baseDir = '.'): Policy {
  const key = (k: string) => (keyPrefix ? `${keyPrefix}.${k}` : k);
  const fail = (reason: string) => new WaybillError('CONFIG', source, reason);
  const policy: Policy = { levels: {}, allowedLicenses: [...DEFAULT_ALLOWED_LICENSES] };
  if (raw === undefined || raw === null) return policy;
  if (!isPlainObject(raw)) throw fail(`${keyPrefix || 'the policy'} must be a mapping, not ${describe(raw)}`);

  for (const k of Object.keys(raw)) {
    if (!TOP_KEYS.includes(k)) throw fail(`unknown key ${key(k)}${suggestion(k, TOP_KEYS)}`);
  }

  if (raw.rules !== undefined && raw.levels !== undefined) {
    throw fail(`${key('rules')} and ${key('levels')} say the same thing: keep one`);
  }
  if (raw.levels === undefined && raw.rules !== undefined) raw.levels = raw.rules;
  if (raw.levels !== undefined && raw.levels !== null) {
    if (!isPlainObject(raw.levels))
      throw fail(`${key('levels')} must be a mapping of rule to level, not ${describe(raw.levels)}`);
    for (const [rule, level] of Object.entries(raw.levels)) {
      if (!RULE_IDS.includes(rule as RuleId))
        throw fail(`${key('levels')}: unknown rule ${rule}${suggestion(rule, RULE_IDS)}`);
      // YAML 1.1 readers turn a bare `off` into false; accept it as the user meant it.
      const value = level === false ? 'off' : level;
      if (typeof value !== 'string' || !LEVELS.includes(value as Level)) {
        throw fail(`${key(`levels.${rule}`)} must be one of ${LEVELS.join(', ')}, not ${describe(level)}`);
      }
      policy.levels[rule as RuleId] = value as Level;
    }
  }

  if (raw.allowedLicenses !== undefined && raw.allowedLicenses !== null) {
    const list = stringList(raw.allowedLicenses, key('allowedLicenses'), fail);
    list.forEach((id, i) => {
      const parsed = parseLicenseExpression(id);
      if (!parsed || !('license' in parsed)) {
        throw fail(
          `${key(`allowedLicenses[${i}]`)} "${id}" is not an SPDX license identifier (or LicenseRef-…)`,
        );
      }
    });
    policy.allowedLicenses = [...new Set(list)].sort();
  }

  if (raw.requireSignatures !== undefined && raw.requireSignatures !== null) {
    if (typeof raw.requireSignatures !== 'boolean') {
      throw fail(`${key('requireSignatures')} must be true or false, not ${describe(raw.requireSignatures)}`);
    }
    policy.requireSignatures = raw.requireSignatures;
  }

  if (raw.trust !== undefined && raw.trust !== null) {
    policy.trust = parseTrust(raw.trust, key('trust'), baseDir, fail);
  }

  const phrases = raw.communityPhrases;
  if (phrases !== undefined && phrases !== null) {
    if (!isPlainObject(phrases))
      throw fail(`${key('communityPhrases')} must be a mapping with add and/or replace`);
    for (const k of Object.keys(phrases)) {
      if (k !== 'add' && k !== 'replace')
        throw fail(`unknown key ${key(`communityPhrases.${k}`)}${suggestion(k, ['add', 'replace'])}`);
    }
    const out: { add?: string[]; replace?: string[] } = {};
    for (const k of ['add', 'replace'] as const) {
      if (phrases[k] === undefined || phrases[k] === null) continue;
      const list = stringList(phrases[k], key(`communityPhrases.${k}`), fail);
      list.forEach((p, i) => {
        try {
          compilePhrase(p);
        } catch (e) {
          throw fail(
            `${key(`communityPhrases.${k}[${i}]`)}: ${e instanceof WaybillError ? e.reason : String(e)}`,
          );
        }
      });
      out[k] = list;
    }
    policy.communityPhrases = out;
  }
  return policy;
}
