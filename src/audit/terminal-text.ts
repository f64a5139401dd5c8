/**
 * Advisory text (summaries, ids, package names) comes from databases anyone can contribute to: every
 * control and invisible formatting character becomes a visible escape before it reaches a terminal.
 * Same contract as the project-wide terminal escaper being added in src/util/terminal-escape.ts
 * (issue 7); this module is to be replaced by it once both have landed.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

export function escapeForTerminal(value: string): string {
  return value.replace(UNSAFE, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
    if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
    return `\\u{${code.toString(16)}}`;
  });
}
