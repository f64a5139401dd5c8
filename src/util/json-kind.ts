/**
 * What kind of JSON value something is, with its article, for messages about a value of the wrong
 * type: the value itself comes from a document and may be of any size or hold anything, so a message
 * names its kind instead of quoting it ("schemaVersion is not a number: an array").
 */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' || type === 'undefined' ? `an ${type}` : `a ${type}`;
}
