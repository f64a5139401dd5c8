/**
 * What `rebuild` says when a rebuilt output is not the published one: the first entries that differ
 * and in what. Paths into nested archives use `!/`, as the zip reader names nested entries:
 * `hello.deb!/data.tar.xz!/usr/bin/hello`.
 */

export type DifferenceAspect =
  /** The bytes of a file differ (sizes and digests shown). */
  | 'content'
  | 'mode'
  | 'mtime'
  /** uid, gid, user or group name. */
  | 'owner'
  /** Same entries, another order. */
  | 'order'
  /** An entry exists on one side only. */
  | 'presence'
  /** File vs directory vs symlink. */
  | 'type'
  /** Symlink or hard link target. */
  | 'link'
  /** A container's own header fields (gzip header, zip method, ar member header, OCI JSON field). */
  | 'header'
  /** The two are different kinds of file altogether. */
  | 'format';

export interface Difference {
  /** Where: the entry path, with `!/` between nesting levels. */
  path: string;
  aspect: DifferenceAspect;
  /** The published side's value. */
  expected?: string;
  /** The rebuilt side's value. */
  actual?: string;
}

export interface CompareOptions {
  /** Stop after this many differences. Default 10. */
  maxDifferences?: number;
}

export const DEFAULT_MAX_DIFFERENCES = 10;

/** Collects differences up to a cap; `full` tells a walker it may stop. */
export class DifferenceList {
  readonly items: Difference[] = [];
  private readonly max: number;

  constructor(max = DEFAULT_MAX_DIFFERENCES) {
    this.max = max;
  }

  get full(): boolean {
    return this.items.length >= this.max;
  }

  add(d: Difference): void {
    if (!this.full) this.items.push(d);
  }

  /** Adds when the two values differ. */
  field(path: string, aspect: DifferenceAspect, expected: string, actual: string): void {
    if (expected !== actual) this.add({ path, aspect, expected, actual });
  }
}

/** `a` + `!/` + `b`, or `b` alone at the top level. */
export function nested(outer: string, inner: string): string {
  return outer === '' ? inner : `${outer}!/${inner}`;
}
