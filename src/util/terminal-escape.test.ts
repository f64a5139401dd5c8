import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  escapeForTerminal,
  escapeLinesForTerminal,
  hasTerminalControls,
  neutralizeTerminalText,
} from './terminal-escape.ts';

/** Any raw control, C1, bidi or other invisible formatting character. */
const RAW =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/u;

test('escapeForTerminal: terminal controls become visible escapes', () => {
  assert.equal(escapeForTerminal('a\u001b[2Jb'), 'a\\x1b[2Jb');
  assert.equal(escapeForTerminal('x\n  signature    verified'), 'x\\n  signature    verified');
  assert.equal(escapeForTerminal('a\r\tb\u0007'), 'a\\r\\tb\\x07');
  assert.equal(escapeForTerminal('\u009b31m'), '\\x9b31m');
  assert.equal(escapeForTerminal('\u0085'), '\\x85');
  assert.equal(escapeForTerminal('\u007f'), '\\x7f');
  // Trojan Source: overrides, embeddings, isolates and marks.
  assert.equal(escapeForTerminal('abc\u202edcb'), 'abc\\u202edcb');
  for (const c of [0x202a, 0x202b, 0x202c, 0x202d, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]) {
    assert.equal(escapeForTerminal(String.fromCodePoint(c)), `\\u${c.toString(16).padStart(4, '0')}`);
  }
  // Invisible characters: zero width, BOM, line separator, tag characters, a lone surrogate.
  assert.equal(escapeForTerminal('a\u200bb\ufeff\u2028'), 'a\\u200bb\\ufeff\\u2028');
  assert.equal(escapeForTerminal('\u{e0041}'), '\\u{e0041}');
  assert.equal(escapeForTerminal('\ud800x'), '\\ud800x');
});

test('escapeForTerminal: ordinary text is unchanged, whatever the script', () => {
  for (const s of [
    'hello 1.2.3',
    'Zoë Ångström <zoe@example.org>',
    'Ελληνικά',
    'עברית',
    'العربية',
    '日本語',
    'C:\\x\\y',
    '✔ ✘ – →',
  ]) {
    assert.equal(escapeForTerminal(s), s);
    assert.equal(hasTerminalControls(s), false);
  }
});

test('escapeForTerminal: property — no raw control survives, printable text is kept', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      const e = escapeForTerminal(s);
      assert.doesNotMatch(e, RAW);
      assert.equal(hasTerminalControls(e), false);
      // Idempotent on its own output: escapes are plain printable ASCII.
      assert.equal(escapeForTerminal(e), e);
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 50 }), (s) => {
      if (!hasTerminalControls(s)) assert.equal(escapeForTerminal(s), s);
    }),
  );
});

test('escapeLinesForTerminal: a multi-line value keeps its lines, each escaped', () => {
  assert.deepEqual(escapeLinesForTerminal('one\r\ntwo\u001b[2J\nthree'), ['one', 'two\\x1b[2J', 'three']);
});

test('neutralizeTerminalText: keeps layout newlines and our SGR, escapes everything else', () => {
  const ours = '\u001b[32m✔\u001b[0m line\nnext';
  assert.equal(neutralizeTerminalText(ours, { keepSgr: true }), ours);
  assert.equal(neutralizeTerminalText(ours, { keepSgr: false }), '\\x1b[32m✔\\x1b[0m line\nnext');
  assert.equal(
    neutralizeTerminalText('a\u001b]0;title\u0007b\u001b[2J\u202e', { keepSgr: true }),
    'a\\x1b]0;title\\x07b\\x1b[2J\\u202e',
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      const n = neutralizeTerminalText(s, { keepSgr: false });
      assert.doesNotMatch(n.replaceAll('\n', ''), RAW);
    }),
  );
});
