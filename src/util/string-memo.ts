/**
 * A pure function of a short string, remembered. License texts repeat: a Debian root file system's
 * ~1 000 copyright files carry ~4 000 `License:` synopses but only ~360 distinct ones, and its
 * components' ~1 300 license strings ~280 distinct ones, so the catalogers and the SBOM writers
 * parse the same few hundred strings again and again (an invalid SPDX expression is a thrown and
 * caught error each time).
 *
 * Bounded, as the strings come from artifacts: only arguments up to `maxKeyLength` characters are
 * remembered (longer ones are computed every time), and at most `maxEntries` of them, after which
 * the memory is emptied and filled again. Results are shared between callers, so the function must
 * return something immutable (a string, a boolean, undefined).
 */
export function memoizeString<T extends string | boolean | undefined>(
  fn: (text: string) => T,
  { maxEntries = 4096, maxKeyLength = 256 }: { maxEntries?: number; maxKeyLength?: number } = {},
): (text: string) => T {
  const known = new Map<string, T>();
  return (text) => {
    if (text.length > maxKeyLength) return fn(text);
    // `has` first: undefined is a result like any other.
    if (known.has(text)) return known.get(text) as T;
    const result = fn(text);
    if (known.size >= maxEntries) known.clear();
    known.set(text, result);
    return result;
  };
}
