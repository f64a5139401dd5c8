/**
 * The build date a record carries, from the most trustworthy source available, never the wall clock
 * when something better exists: an explicit flag; the artifact's own build date (an image's config
 * `created`, a deb's member date, an rpm's BUILDTIME… — the native `created` fact, which `check`
 * compares the record with); SOURCE_DATE_EPOCH (the reproducible-builds convention); the commit date
 * of the source; and only then the current time. A package stamped long after it was built (a
 * third-party .deb re-released by a team) keeps the date it was built, not the tag's.
 */
import { WaybillError } from '../errors.ts';
import type { NativeFacts } from '../formats/facts.ts';
import { isRfc3339Instant, parseLooseDate, parseRfc3339 } from '../policy/rfc3339.ts';
import { headCommitDate } from '../provenance/commit-date.ts';
import type { Artifact } from '../sources/types.ts';

export function sourceDateEpoch(): Date | undefined {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return undefined;
  if (!/^\d{1,12}$/.test(epoch)) {
    throw new WaybillError(
      'USAGE',
      'SOURCE_DATE_EPOCH',
      `not a non-negative integer: ${JSON.stringify(epoch)}`,
    );
  }
  return new Date(Number(epoch) * 1000);
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

export async function buildDate(
  artifact: Artifact,
  native: NativeFacts,
  flag: string | undefined,
  sourceDir: string | null,
  now: Date,
): Promise<string> {
  if (flag) return flag;
  const created = artifact.image?.selected?.config.created ?? artifact.image?.platforms[0]?.config.created;
  // A native date that does not parse, or that RFC 3339 cannot write (a year past 9999), is for
  // `check` to report, not the record to carry: the record would fail its own schema.
  if (created && parseRfc3339(created)) return created;
  const own = artifact.image ? undefined : parseLooseDate(native.created?.value ?? '');
  if (own && isRfc3339Instant(own)) return iso(own);
  return iso(sourceDateEpoch() ?? (sourceDir ? await headCommitDate(sourceDir) : undefined) ?? now);
}
