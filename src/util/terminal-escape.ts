/**
 * The one door between untrusted text and a terminal. Anything that came from an artifact, a record,
 * a tag, a config file or a path passes through `escapeForTerminal` before it is printed as text:
 * every character that a terminal acts on instead of showing, or that is invisible, becomes a visible
 * escape, so a value can neither move the cursor, clear the screen, retitle the window, reorder what
 * follows it (Trojan Source, CVE-2021-42574), nor start a line that looks like waybill's own.
 *
 * What is escaped (a value never keeps a raw one of these):
 * - C0 controls U+0000–U+001F (ESC, CR, BS, BEL, and newlines inside a value), DEL U+007F and the C1
 *   controls U+0080–U+009F (U+009B is a one-byte CSI to many terminals, U+0085 a newline);
 * - every other invisible formatting character (Unicode category Cf): the bidi embeddings,
 *   overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E/U+200F/U+061C,
 *   zero-width characters, U+FEFF, the tag characters U+E0000–U+E007F;
 * - the line and paragraph separators U+2028/U+2029 and lone surrogates.
 *
 * Escapes are the familiar source-code spellings: `\n`, `\r`, `\t`, `\x1b` (below U+0100),
 * `\u202e` (the rest of the BMP), `\u{e0041}` (beyond it). A backslash already in the value is left
 * as it is: the goal is a terminal that shows what is there, not a reversible encoding, and doubling
 * every backslash would garble Windows paths in error messages.
 *
 * JSON and SARIF output need none of this (JSON.stringify escapes controls, and tools read them), so
 * only text renderers and stderr lines use it.
 */

/** Characters a terminal must never receive raw from a value. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
const UNSAFE_TEST = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The visible spelling of one unsafe character. */
export function visibleEscape(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** `value` with every control and invisible formatting character replaced by a visible escape. */
export function escapeForTerminal(value: string): string {
  return UNSAFE_TEST.test(value) ? value.replace(UNSAFE, visibleEscape) : value;
}

/**
 * A value that is meant to span lines (a disclaimer, a support statement): split on its own line
 * breaks (LF or CRLF), each line escaped, so the caller can lay the lines out (indent them) itself.
 */
export function escapeLinesForTerminal(value: string): string[] {
  return value.split(/\r?\n/).map(escapeForTerminal);
}

/** True when printing `value` raw could act on the terminal or hide text. */
export function hasTerminalControls(value: string): boolean {
  return UNSAFE_TEST.test(value);
}

/** waybill's own colour sequences (SGR: ESC [ params m), the only escape sequences it prints. */
const OWN_SGR = /\u001b\[[0-9;]*m/y;

/**
 * A last line of defence for whole rendered texts, applied where text leaves for stdout/stderr:
 * layout newlines stay, waybill's own SGR colour sequences stay when `keepSgr`, every other control
 * or invisible character is escaped. Values must still be escaped one by one before layout (this
 * cannot tell a value's newline from the layout's); this only guarantees that no raw control
 * sequence a renderer forgot reaches the terminal.
 */
export function neutralizeTerminalText(text: string, options: { keepSgr: boolean }): string {
  if (!UNSAFE_TEST.test(text.replaceAll('\n', ''))) return text;
  let out = '';
  let last = 0;
  for (const match of text.matchAll(UNSAFE)) {
    const at = match.index;
    const ch = match[0];
    if (ch === '\n' || at < last) continue;
    if (ch === '\u001b' && options.keepSgr) {
      OWN_SGR.lastIndex = at;
      const sgr = OWN_SGR.exec(text);
      if (sgr) {
        out += text.slice(last, at + sgr[0].length);
        last = at + sgr[0].length;
        continue;
      }
    }
    out += text.slice(last, at) + visibleEscape(ch);
    last = at + ch.length;
  }
  return out + text.slice(last);
}
