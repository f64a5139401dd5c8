/**
 * Sidecar storage of a release record: `NAME.waybill.json` next to the artifact `NAME`, the same
 * convention as detached signatures (`NAME.asc`, `NAME.sig`), so the two travel together in a
 * release directory. Images keep their record as an OCI attachment instead (registry/).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { serializeRecord } from './build.ts';
import { MAX_RECORD_BYTES, parseRecord, recordProblem } from './schema.ts';
import type { ReleaseRecord } from './types.ts';

export const SIDECAR_SUFFIX = '.waybill.json';

/** `dist/app_1.0_amd64.deb` → `dist/app_1.0_amd64.deb.waybill.json`; a trailing slash is ignored. */
export function sidecarPath(artifactPath: string): string {
  const trimmed = artifactPath.replace(/[/\\]+$/, '');
  const name = basename(trimmed);
  if (name === '' || name === '.' || name === '..') {
    throw new WaybillError(
      'USAGE',
      artifactPath,
      'cannot name a sidecar for this path: give the artifact file',
    );
  }
  return join(dirname(trimmed), `${name}${SIDECAR_SUFFIX}`);
}

/**
 * Writes the record next to the artifact, atomically (temp file in the same directory, then rename),
 * and returns the sidecar path. The record is validated first: an invalid record is never written.
 */
export async function writeSidecar(artifactPath: string, record: ReleaseRecord): Promise<string> {
  const target = sidecarPath(artifactPath);
  const problem = recordProblem(record);
  if (problem !== undefined)
    throw new WaybillError('USAGE', target, `refusing to write an invalid record: ${problem}`);
  try {
    await writeFileAtomic(target, serializeRecord(record));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WaybillError('NOT_FOUND', target, `cannot write the record${code ? ` (${code})` : ''}`, {
      cause: e,
    });
  }
  return target;
}

/** Reads the sidecar of an artifact; undefined when there is none, MALFORMED when it is broken. */
export async function readSidecar(artifactPath: string): Promise<ReleaseRecord | undefined> {
  const path = sidecarPath(artifactPath);
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new WaybillError('MALFORMED', path, 'is not a regular file');
    if (info.size > MAX_RECORD_BYTES) {
      throw new WaybillError('LIMIT', path, `release record is larger than ${MAX_RECORD_BYTES} bytes`);
    }
    text = decodeUtf8(await readFile(path), path);
  } catch (e) {
    if (e instanceof WaybillError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new WaybillError('NOT_FOUND', path, `cannot be read${code ? ` (${code})` : ''}`, { cause: e });
  }
  return parseRecord(text, path);
}

function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (e) {
    throw new WaybillError('MALFORMED', path, 'is not valid UTF-8', { cause: e });
  }
}
