/**
 * The names a release directory is built from: `ROOT/NAME/VERSION/FILE` and the sidecars
 * `FILE.<suffix>`. Each is one path segment that means the same thing on every web server and file
 * system, so nothing a release is published under can climb out of its directory or hide:
 *
 * - not empty, at most 255 bytes (the usual file-name limit);
 * - no `/` or `\` (a second segment, or one on Windows servers), not `.` or `..`;
 * - no leading `.`: hidden names are waybill's own transient files (`.waybill.lock`, temp files)
 *   and web servers commonly refuse to serve them;
 * - no control character (C0, DEL, C1) and no invisible formatting character (bidi overrides,
 *   zero-width characters): a name is shown to people and goes into SHA256SUMS, whose line format
 *   a newline would break;
 * - not a name the layout itself uses: `index.json` as a VERSION (it sits next to the versions),
 *   `SHA256SUMS` as a FILE.
 */
import { WaybillError } from '../errors.ts';
import { visibleEscape } from '../util/terminal-escape.ts';

export const INDEX_FILE = 'index.json';
export const SUMS_FILE = 'SHA256SUMS';

const MAX_SEGMENT_BYTES = 255;
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

export type SegmentRole = 'name' | 'version' | 'file';

/** Why `value` cannot be a path segment of a release directory, or undefined when it can. */
export function segmentProblem(value: string, role: SegmentRole): string | undefined {
  if (value === '') return 'is empty';
  if (Buffer.byteLength(value, 'utf8') > MAX_SEGMENT_BYTES)
    return `is longer than ${MAX_SEGMENT_BYTES} bytes`;
  if (value === '.' || value === '..') return 'is not a name';
  if (value.includes('/') || value.includes('\\')) return 'contains a path separator (/ or \\)';
  if (value.startsWith('.')) return 'starts with "." (hidden names are not published)';
  const bad = UNSAFE.exec(value);
  if (bad) return `contains the control character ${visibleEscape(bad[0])}`;
  if (role === 'version' && value === INDEX_FILE)
    return `cannot be ${INDEX_FILE} (the index is stored there)`;
  if (role === 'file' && value === SUMS_FILE)
    return `cannot be ${SUMS_FILE} (the checksum list is stored there)`;
  return undefined;
}

/** Throws USAGE naming `input` when `value` is not a valid segment for `role`. */
export function requireSegment(value: string, role: SegmentRole, input: string): string {
  const problem = segmentProblem(value, role);
  if (problem) throw new WaybillError('USAGE', input, `release ${role} ${JSON.stringify(value)} ${problem}`);
  return value;
}

/** A sidecar of `file` is `file.<suffix>`, the suffix a plain name of its own. */
export function isSidecarName(file: string, name: string): boolean {
  if (!name.startsWith(`${file}.`) || name.length === file.length + 1) return false;
  return segmentProblem(name, 'file') === undefined;
}
