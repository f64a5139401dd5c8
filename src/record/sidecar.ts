/**
 * Sidecar storage of a release record: `NAME.waybill.json` next to the artifact `NAME`, the same
 * convention as detached signatures (`NAME.asc`, `NAME.sig`), so the two travel together in a
 * release directory. Images keep their record as an OCI attachment instead (registry/).
 */
import { basename, dirname, join, resolve } from 'node:path';
import { WaybillError } from '../errors.ts';
import { writeFailed, writeFileAtomic } from '../util/atomic-write.ts';
import { readRegularFileIfPresent } from '../util/regular-file.ts';
import { serializeRecord } from './build.ts';
import { MAX_RECORD_BYTES, parseRecord, recordProblem } from './schema.ts';
import type { ReleaseRecord } from './types.ts';

export const SIDECAR_SUFFIX = '.waybill.json';

/**
 * `dist/app_1.0_amd64.deb` → `dist/app_1.0_amd64.deb.waybill.json`; a trailing slash is ignored, and
 * a directory named `.` or `..` is named by its real name, beside it (`dir:.` in /src/app →
 * /src/app.waybill.json): a sidecar is never inside the artifact it describes.
 */
export function sidecarPath(artifactPath: string): string {
  return join(...sidecarHome(artifactPath, SIDECAR_SUFFIX));
}

/** The directory a sidecar goes in and its file name: `[dir, NAME + suffix]`. */
export function sidecarHome(artifactPath: string, suffix: string): [string, string] {
  let trimmed = artifactPath.replace(/[/\\]+$/, '');
  if (trimmed === '' || basename(trimmed) === '.' || basename(trimmed) === '..')
    trimmed = resolve(artifactPath);
  const name = basename(trimmed);
  if (name === '' || name === '.' || name === '..') {
    throw new WaybillError(
      'USAGE',
      artifactPath,
      'cannot name a sidecar for this path: give the artifact file',
    );
  }
  return [dirname(trimmed), `${name}${suffix}`];
}

/** The canonical bytes of a record sidecar; an invalid record is refused (USAGE), never written. */
export function sidecarBytes(record: ReleaseRecord, target: string): string {
  const problem = recordProblem(record);
  if (problem !== undefined)
    throw new WaybillError('USAGE', target, `refusing to write an invalid record: ${problem}`);
  return serializeRecord(record);
}

/**
 * Writes the record next to the artifact, atomically (temp file in the same directory, then rename),
 * and returns the sidecar path. The record is validated first: an invalid record is never written.
 */
export async function writeSidecar(artifactPath: string, record: ReleaseRecord): Promise<string> {
  const target = sidecarPath(artifactPath);
  const bytes = sidecarBytes(record, target);
  await writeFileAtomic(target, bytes).catch((e: unknown) => {
    throw writeFailed(e, target);
  });
  return target;
}

/**
 * Reads the sidecar of an artifact; undefined when there is none, MALFORMED when it is broken. Only a
 * regular file is read: a FIFO or device there is refused at once, never waited on.
 */
export async function readSidecar(artifactPath: string): Promise<ReleaseRecord | undefined> {
  const path = sidecarPath(artifactPath);
  const bytes = await readRegularFileIfPresent(path, { maxBytes: MAX_RECORD_BYTES, code: 'MALFORMED' }).catch(
    (e: unknown) => {
      if (e instanceof WaybillError && e.code === 'LIMIT')
        throw new WaybillError('LIMIT', path, `release record is larger than ${MAX_RECORD_BYTES} bytes`);
      throw e;
    },
  );
  if (!bytes) return undefined;
  return parseRecordSidecar(bytes, path);
}

/** A release record's bytes (a sidecar, a download, an OCI attachment or referrer) parsed; `where` names it in errors. */
export function parseRecordSidecar(bytes: Uint8Array, where: string): ReleaseRecord {
  if (bytes.length > MAX_RECORD_BYTES)
    throw new WaybillError('LIMIT', where, `release record is larger than ${MAX_RECORD_BYTES} bytes`);
  return parseRecord(decodeUtf8(bytes, where), where);
}

function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (e) {
    throw new WaybillError('MALFORMED', path, 'is not valid UTF-8', { cause: e });
  }
}
