/**
 * What `stamp` may write. Every string in a release record (and, from the same settings, in an
 * artifact's native metadata: deb control fields, image labels, wheel METADATA) is read back later
 * by people and tools: a control character in a name, version or URL is either a mistake or an
 * attempt on whoever inspects the artifact (an ESC sequence, a newline that forges a line, a bidi
 * override that reorders text). Such values are refused before anything is written, one line, exit 2.
 *
 * Rules:
 * - single-line fields (names, versions, architectures, team, contact, URLs, license, source
 *   repository and tag): no control character at all (C0, DEL, C1), no invisible formatting
 *   character (Unicode Cf: bidi controls, zero-width characters, BOM, tag characters), no line or
 *   paragraph separator;
 * - multi-line text (the warranty disclaimer and the support statement are paragraphs): newlines and
 *   tabs are allowed, everything else above is refused the same way.
 * Readers still escape whatever they print (util/terminal-escape.ts): records written by other tools,
 * or edited by hand, may hold anything.
 */
import { WaybillError } from '../errors.ts';
import { visibleEscape } from '../util/terminal-escape.ts';
import type { RecordInput } from './input.ts';

const UNWRITABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const UNWRITABLE_IN_TEXT = /[^\P{Cc}\n\t]|[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** Throws USAGE naming `field` when `value` holds a character a written record must not carry. */
export function assertWritableText(
  field: string,
  value: string | null | undefined,
  options: { multiline?: boolean } = {},
): void {
  if (typeof value !== 'string') return;
  const match = (options.multiline ? UNWRITABLE_IN_TEXT : UNWRITABLE).exec(value);
  if (!match) return;
  const what = options.multiline
    ? 'text may hold newlines and tabs, no other control or invisible formatting character'
    : 'names, versions and URLs are one line of visible text';
  throw new WaybillError(
    'USAGE',
    field,
    `contains the control character ${visibleEscape(match[0])} at position ${match.index}; ${what}`,
  );
}

/** Every text a record built from `input` would carry, checked by the rules above. */
export function assertRecordTexts(input: RecordInput): void {
  const one = (field: string, value: string | null | undefined) => assertWritableText(field, value);
  for (const s of input.subject) one('subject.name', s.name);
  one('identity.name', input.identity?.name);
  one('identity.version', input.identity?.version);
  for (const a of input.identity?.architectures ?? []) one('identity.architectures', a);
  for (const p of input.identity?.platforms ?? []) one('identity.platforms', p);
  one('team.name', input.team?.name);
  one('team.contact', input.team?.contact);
  one('help.bugTracker', input.help?.bugTracker);
  one('help.docs', input.help?.docs);
  one('support.license', input.support?.license);
  assertWritableText('support.disclaimer', input.support?.disclaimer, { multiline: true });
  assertWritableText('support.statement', input.support?.statement, { multiline: true });
  one('source.repository', input.source?.repository);
  for (const u of input.upstream ?? []) {
    one('upstream.field', u.field);
    // Copied from the artifact's own metadata, where a value may be folded over several lines.
    assertWritableText(`upstream ${u.field}`, u.value, { multiline: true });
  }
  one('source.tag', input.source?.tag);
}
