/**
 * Git objects as bytes, checked without a repository: the object id git would give them, and the
 * headers of a commit object. A release record carries the raw tag and commit objects (record v2), so
 * a consumer can confirm offline that they are the objects the record names.
 *
 * An object's id is the hash of `<type> SP <decimal size> NUL <content>` (git's "loose object" header;
 * Documentation/technical/hash-function-transition.txt), SHA-1 in classic repositories and SHA-256
 * in `--object-format=sha256` ones; the id's length tells which.
 */
import { createHash } from 'node:crypto';
import { WaybillError } from '../errors.ts';

export type ObjectFormat = 'sha1' | 'sha256';

/** `sha1` for a 40-hex id, `sha256` for a 64-hex one, undefined for anything else. */
export function objectFormatOf(id: string): ObjectFormat | undefined {
  if (/^[0-9a-f]{40}$/.test(id)) return 'sha1';
  if (/^[0-9a-f]{64}$/.test(id)) return 'sha256';
  return undefined;
}

/** The id git gives an object of `type` with these content bytes. */
export function gitObjectId(
  type: 'tag' | 'commit' | 'tree' | 'blob',
  content: Buffer,
  format: ObjectFormat,
): string {
  return createHash(format).update(`${type} ${content.length}\0`, 'latin1').update(content).digest('hex');
}

export interface CommitObject {
  /** The tree id (first header, as fsck requires). */
  tree: string;
  parents: string[];
  /** The committer identity as written (name and e-mail), a byte string. */
  committer: string | null;
  /** Committer time, seconds since the epoch, and its zone as written (`+0200`). */
  committerTime: number | null;
  committerZone: string | null;
}

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** `Name <mail> 1700000000 +0100`: the time and zone are the last two fields. */
const IDENT_TIME = /^(.*) (\d{1,15}) ([+-]\d{4})$/;

/**
 * Parses the headers of a commit object given as a byte string (latin1-decoded bytes, as
 * tag-object.ts reads tags). Only the header block is read; the message is not needed. Throws
 * MALFORMED naming `input` when the object is not shaped like a commit.
 */
export function parseCommitObject(bytes: string, input: string): CommitObject {
  const fail = (why: string): never => {
    throw new WaybillError('MALFORMED', input, `commit object ${why}`);
  };
  const end = bytes.indexOf('\n\n');
  const header = end === -1 ? bytes.replace(/\n$/, '') : bytes.slice(0, end);
  const lines = header.split('\n');
  const first = lines[0] ?? '';
  if (!first.startsWith('tree ')) fail("does not start with a 'tree' header");
  const tree = first.slice('tree '.length);
  if (!OBJECT_ID.test(tree)) fail(`has an invalid tree id ${JSON.stringify(tree.slice(0, 70))}`);
  const parents: string[] = [];
  let committer: string | null = null;
  let committerTime: number | null = null;
  let committerZone: string | null = null;
  for (const line of lines.slice(1)) {
    // Continuation lines of multi-line headers (gpgsig, mergetag) start with a space.
    if (line.startsWith(' ')) continue;
    const space = line.indexOf(' ');
    const name = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    if (name === 'tree') fail('has more than one tree header');
    if (name === 'parent') {
      if (!OBJECT_ID.test(value)) fail(`has an invalid parent id ${JSON.stringify(value.slice(0, 70))}`);
      parents.push(value);
    } else if (name === 'committer') {
      if (committer !== null) fail('has more than one committer header');
      const m = IDENT_TIME.exec(value);
      if (!m) fail('has a committer header without a time and zone');
      committer = m![1]!;
      committerTime = Number(m![2]);
      committerZone = m![3]!;
    }
  }
  return { tree, parents, committer, committerTime, committerZone };
}
