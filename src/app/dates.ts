/**
 * The build date a record carries, from the most trustworthy source available, never the wall clock
 * when something better exists: an explicit flag, the image's own `created`, SOURCE_DATE_EPOCH (the
 * reproducible-builds convention), the commit date of the source, and only then the current time.
 */
import { WaybillError } from '../errors.ts';
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

export async function buildDate(
  artifact: Artifact,
  flag: string | undefined,
  sourceDir: string | null,
  now: Date,
): Promise<string> {
  if (flag) return flag;
  const created = artifact.image?.selected?.config.created ?? artifact.image?.platforms[0]?.config.created;
  if (created) return created;
  const date = sourceDateEpoch() ?? (sourceDir ? await headCommitDate(sourceDir) : undefined) ?? now;
  return date.toISOString().replace(/\.000Z$/, 'Z');
}
