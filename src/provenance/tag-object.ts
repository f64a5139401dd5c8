/**
 * Parser for git annotated tag objects (`git cat-file tag <id>`).
 *
 * Layout (git Documentation/technical/signature-format.txt and fsck's tag checks): header lines
 * `object <hex>`, `type <type>`, `tag <name>`, optionally `tagger <ident>`, possibly more headers
 * (continuation lines start with a space), an empty line, then the message. A signature is appended
 * to the message; like git's parse_signed_buffer, it starts at the LAST line that begins with a
 * known signature armor, so a message that quotes an armor line earlier does not split it.
 *
 * Input and output strings are "byte strings" (latin1-decoded bytes): ref names and messages need
 * not be UTF-8, and comparing a header to a ref name must compare bytes, not lossy UTF-8 decodings.
 */

import { WaybillError } from '../errors.ts';

export type SignatureFormat = 'openpgp' | 'ssh' | 'x509';

export interface TagObject {
  /** Id of the tagged object (40 hex for SHA-1 repositories, 64 for SHA-256). */
  object: string;
  /** Type of the tagged object: commit, tree, blob or tag. */
  type: string;
  /** The name the tagger gave the tag, as a byte string. */
  tag: string;
  tagger: string | null;
  /** The signed payload: everything before the signature (the whole object when unsigned). */
  payload: string;
  signature: { format: SignatureFormat; armor: string } | null;
}

/** Armor first lines git recognises (gpg-interface.c), mapped to the format that verifies them. */
const SIGNATURE_ARMORS: ReadonlyArray<readonly [string, SignatureFormat]> = [
  ['-----BEGIN PGP SIGNATURE-----', 'openpgp'],
  ['-----BEGIN PGP MESSAGE-----', 'openpgp'],
  ['-----BEGIN SIGNED MESSAGE-----', 'x509'],
  ['-----BEGIN SSH SIGNATURE-----', 'ssh'],
];

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const OBJECT_TYPES = new Set(['commit', 'tree', 'blob', 'tag']);

/** Parses a tag object; `input` names it in errors. Throws WaybillError MALFORMED on bad bytes. */
export function parseTagObject(bytes: string, input: string): TagObject {
  const fail = (why: string): never => {
    throw new WaybillError('MALFORMED', input, `tag object ${why}`);
  };
  const headerEnd = bytes.indexOf('\n\n');
  const headerText = headerEnd === -1 ? bytes.replace(/\n$/, '') : bytes.slice(0, headerEnd);
  const headers: Array<[string, string]> = [];
  for (const line of headerText.split('\n')) {
    if (line.startsWith(' ')) {
      // Continuation of a multi-line header (e.g. `gpgsig` of SHA-256 compat objects).
      const last = headers[headers.length - 1];
      if (!last) fail('starts with a continuation line');
      else last[1] += `\n${line.slice(1)}`;
      continue;
    }
    const space = line.indexOf(' ');
    if (space <= 0) fail(`has a header line without a value: ${JSON.stringify(line.slice(0, 40))}`);
    headers.push([line.slice(0, space), line.slice(space + 1)]);
  }
  // The first three headers are fixed in order, as fsck requires.
  const expectHeader = (index: number, name: string): string => {
    const header = headers[index];
    if (!header || header[0] !== name) return fail(`lacks the '${name}' header on line ${index + 1}`);
    return header[1];
  };
  const object = expectHeader(0, 'object');
  if (!OBJECT_ID.test(object)) fail(`has an invalid object id ${JSON.stringify(object.slice(0, 70))}`);
  const type = expectHeader(1, 'type');
  if (!OBJECT_TYPES.has(type)) fail(`has an invalid type ${JSON.stringify(type.slice(0, 20))}`);
  const tag = expectHeader(2, 'tag');
  if (tag === '' || /[\0\n]/.test(tag)) fail('has an empty or invalid tag name');
  const taggerHeader = headers[3];
  const tagger = taggerHeader && taggerHeader[0] === 'tagger' ? taggerHeader[1] : null;

  const signature = findSignature(bytes, headerEnd === -1 ? bytes.length : headerEnd + 2);
  return {
    object,
    type,
    tag,
    tagger,
    payload: signature ? bytes.slice(0, signature.offset) : bytes,
    signature: signature ? { format: signature.format, armor: bytes.slice(signature.offset) } : null,
  };
}

/** The last line of the body that starts with a signature armor, like git's parse_signed_buffer. */
function findSignature(bytes: string, bodyStart: number): { offset: number; format: SignatureFormat } | null {
  let found: { offset: number; format: SignatureFormat } | null = null;
  let lineStart = bodyStart;
  while (lineStart < bytes.length) {
    for (const [armor, format] of SIGNATURE_ARMORS) {
      if (bytes.startsWith(armor, lineStart)) found = { offset: lineStart, format };
    }
    const newline = bytes.indexOf('\n', lineStart);
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  return found;
}

/** Byte string → readable text for messages (ref names are usually UTF-8). */
export function displayBytes(byteString: string): string {
  return Buffer.from(byteString, 'latin1').toString('utf8');
}
