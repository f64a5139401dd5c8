/**
 * Native metadata formats for single-file artifacts (deb, rpm, apk, wheel, sdist, executables, system
 * images, Vagrant boxes): each one detects its kind from the file's first bytes and name, reads its
 * fields into NativeFacts, and, where the format allows it without breaking the artifact, writes the
 * release facts back into them. Images have their own path (oci/ and formats/image/oci-facts.ts).
 */
import { isWaybillError } from '../errors.ts';
import type { NativeFacts } from './facts.ts';

/** The facts a stamper writes; null or absent means "leave as it is". */
export interface NativeStampFacts {
  name?: string | null;
  version?: string | null;
  architecture?: string | null;
  /** RFC 3339 build date. */
  created?: string | null;
  team?: string | null;
  /** The team's contact (an email address or URL). */
  contact?: string | null;
  bugTracker?: string | null;
  docs?: string | null;
  /** Source repository URL and revision (commit). */
  source?: string | null;
  revision?: string | null;
  /** SPDX license expression. */
  license?: string | null;
}

export interface NativeStampResult {
  /** False when the format keeps its facts in the sidecar only (rpm: headers are signed). */
  changed: boolean;
  /** Which native fields were written, for the user: e.g. ['deb Homepage', 'deb Bugs', 'deb Maintainer']. */
  fields: string[];
  /** Tool used, when an external one was (e.g. `objcopy` for ELF notes). */
  tool?: string;
  /**
   * The upstream trail: for each field the stamp set in place of the artifact's own value, that
   * original value (as the artifact keeps it: a deb's `Original-Maintainer`), e.g.
   * `{field: 'deb Maintainer', value: 'Jane <jane@debian.org>'}`. Recorded in the release record.
   */
  replaced?: Array<{ field: string; value: string }>;
}

export interface NativeFormat {
  /** Short name: `deb`, `rpm`, `apk`, `wheel`, `sdist`, `elf`, `pe`, `macho`, `rootfs`, `disk-image`, `vagrant-box`, `vagrant-catalog`. */
  name: string;
  /** Decide from the first bytes (at least 512 given when the file has them) and the file name. */
  detect(head: Buffer, path: string): boolean;
  /**
   * For formats recognised by what a tarball holds somewhere inside (rootfs, sdist, Vagrant box):
   * one streaming pass over the headers confirms what `detect` only suspected from the first bytes.
   */
  confirm?(path: string): Promise<boolean>;
  /**
   * Whether `stamp` writes the name and version into the artifact (an ELF package note, a Vagrant
   * catalog), so a name given for the stamp can replace what the artifact said. Absent: the
   * artifact's own name and version are its identity and are never rewritten (deb, rpm, apk, wheel…).
   */
  writesIdentity?: boolean;
  /** Read the native fields. Bad input → WaybillError (MALFORMED naming the file and field). */
  readFacts(path: string): Promise<NativeFacts>;
  /**
   * Write the facts into the artifact in place, atomically (temp file + rename): the artifact is
   * either fully rewritten or untouched. Absent when the format has nowhere to write.
   */
  stamp?(path: string, facts: NativeStampFacts): Promise<NativeStampResult>;
}

/**
 * A `confirm` answer from a scan of the archive: false when the scan finds no sign of the format. A
 * broken archive (MALFORMED: cut, corrupt; LIMIT: a bomb) is reported, never taken for "some other
 * kind of file": a cut .box or rootfs tarball was shown as a plain file with no facts, exit 0
 * (found by fuzzing). Anything else the scan cannot read still just means "not this format".
 */
export async function confirmedBy(scan: () => Promise<boolean>): Promise<boolean> {
  try {
    return await scan();
  } catch (e) {
    if (isWaybillError(e) && (e.code === 'MALFORMED' || e.code === 'LIMIT')) throw e;
    return false;
  }
}

/** A format whose `confirm` is required (see NativeFormat.confirm). */
export type ConfirmableNativeFormat = NativeFormat & Required<Pick<NativeFormat, 'confirm'>>;
