/**
 * Builder ids name a builder and, after `@`, its version: a policy naming no version accepts any
 * version of that builder (as slsa-verifier does); one naming a version wants exactly it. Its own
 * module because both the provenance reader and the certificate identity policy compare them.
 */

/** `ID` matches `ID` and `ID@anything`; `ID@ref` matches only itself. */
export function builderIdMatches(wanted: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (wanted.includes('@')) return actual === wanted;
  return actual === wanted || actual.startsWith(`${wanted}@`);
}
