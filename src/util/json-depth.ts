/**
 * How deep untrusted JSON may nest. JSON.parse itself copes with any depth, but code that later walks
 * or prints a value recurses: a 300 KiB document nested 100 000 deep (an SBOM property, a VEX
 * timestamp) overflowed the stack in an error message's JSON.stringify and ended the command with
 * V8's "Maximum call stack size exceeded", naming no input. Documents waybill reads — SBOMs, OCI
 * manifests and configs, release records, in-toto statements, Sigstore bundles, OSV and OpenVEX —
 * nest a few levels (CycloneDX's nested components a few dozen at most), so a bound far above that
 * refuses only hostile input, with one line naming it.
 */
import { WaybillError } from '../errors.ts';

export const MAX_JSON_DEPTH = 256;

/** Whether `value` nests arrays and objects deeper than `max` levels (iterative: any depth is safe). */
export function nestsDeeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The reason to refuse `value`, or undefined when it nests no deeper than MAX_JSON_DEPTH. */
export function tooDeepReason(value: unknown): string | undefined {
  return nestsDeeperThan(value) ? `JSON nested deeper than ${MAX_JSON_DEPTH} levels` : undefined;
}

/** Throws MALFORMED naming `input` when `value` nests deeper than MAX_JSON_DEPTH; returns it else. */
export function checkedDepth<T>(value: T, input: string): T {
  const reason = tooDeepReason(value);
  if (reason !== undefined) throw new WaybillError('MALFORMED', input, reason);
  return value;
}
