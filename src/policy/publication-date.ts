/**
 * Guideline 3's second date. A release record is written before the artifact is published, so its
 * `dates.published` is null; `publish` then writes a publication statement with the date. The
 * dates rule judges the record's own date when it has one, else the statement's, and says which
 * one it used.
 */
import type { ReleaseRecord } from '../record/types.ts';
import type { PublicationFact } from './types.ts';

/** The record with the publication statement's date filled in where the record has none. */
export function withPublicationDate(
  record: ReleaseRecord | undefined,
  publication: PublicationFact | undefined,
): ReleaseRecord | undefined {
  if (!record || !publication || record.predicate.dates.published) return record;
  return {
    ...record,
    predicate: {
      ...record.predicate,
      dates: { ...record.predicate.dates, published: publication.published },
    },
  };
}

/** Where a publish date shown by the dates rule came from: the record, or a publication statement. */
export function publishedFrom(publishedBy: PublicationFact | undefined): { label: string; path: string } {
  if (!publishedBy) return { label: 'record', path: 'record:/predicate/dates/published' };
  return {
    label: `publication statement, ${publishedBy.target}`,
    path: `publication:${publishedBy.location}#/predicate/published`,
  };
}
