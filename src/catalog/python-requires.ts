/**
 * What an installed Python distribution requires, by normalized name: `Requires-Dist` fields of its
 * core metadata (PEP 508 dependency specifiers) and, for setuptools' egg-info, `requires.txt`.
 *
 * Markers are not evaluated against an interpreter (there is none here): a requirement that only
 * applies with an extra (`; extra == "test"`, a `[test]` section) is left out, since extras are chosen
 * by whoever installs; any other marker (`python_version < "3.11"`, `sys_platform == "win32"`) is kept,
 * and the cataloger adds an edge only when the required distribution is installed — so a requirement
 * whose marker did not apply normally has no installed target and no edge.
 */
import { normalizePythonName } from './python-names.ts';

/** PEP 508: the name is letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit. */
const NAME = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;

/** True when the marker mentions `extra` (PEP 508 `extra == "name"`). */
function needsExtra(marker: string): boolean {
  return /(^|[\s(])extra\s*(==|!=|in\b|not\s+in\b)|["']\s*(==|in)\s*extra\b/.test(marker);
}

/** The normalized distribution name of one PEP 508 specifier, or undefined when it only applies with an extra. */
export function requirementName(spec: string): string | undefined {
  const semi = spec.indexOf(';');
  const marker = semi < 0 ? '' : spec.slice(semi + 1);
  if (marker !== '' && needsExtra(marker)) return undefined;
  const m = NAME.exec(semi < 0 ? spec : spec.slice(0, semi));
  return m ? normalizePythonName(m[1]!) : undefined;
}

/** Names required by `Requires-Dist` values. */
export function requiresDist(values: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    const name = requirementName(v);
    if (name) out.add(name);
  }
  return [...out].sort();
}

/**
 * setuptools' `requires.txt`: one requirement per line; lines before any `[section]` always apply,
 * `[extra]` and `[extra:marker]` sections apply only with that extra, `[:marker]` sections under a
 * marker (kept, see above).
 */
export function requiresTxt(text: string): string[] {
  const out = new Set<string>();
  let applies = true;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      applies = section[1]!.trim().startsWith(':');
      continue;
    }
    if (!applies) continue;
    const name = requirementName(line);
    if (name) out.add(name);
  }
  return [...out].sort();
}
