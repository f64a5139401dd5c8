/**
 * Stacks layer scans into the final filesystem view, as image-spec layer.md "Applying Changesets"
 * describes: whiteouts delete a path and everything under it from lower layers, an opaque-dir marker
 * hides a directory's lower contents, and an entry replaces a lower one at its path (a non-directory
 * also replaces a lower directory with everything under it, as extraction does). Only wanted files
 * are tracked, so memory follows what the filter keeps, not the image size. A hard link to a lower
 * layer's file holds its place without bytes until `fillLowerLink` gives them (layer-lower-links.ts).
 */
import type { LayerScan } from './layer-scan.ts';
import type { FileEntry, WalkedFile, WalkResult } from './types.ts';

/** A hard link to a lower layer's file still in the view: `below` is the link's layer position. */
export interface OpenLowerLink {
  path: string;
  entry: FileEntry;
  target: string;
  below: number;
}

export class OverlayView {
  private readonly files = new Map<string, WalkedFile>();
  /** For each directory, how many tracked files lie under it: makes subtree deletes cheap to skip. */
  private readonly underDir = new Map<string, number>();
  private readonly skipped: Array<{ path: string; reason: string }> = [];
  /** Hard links to lower layers' files that are still in the view, by path, waiting for bytes. */
  private readonly lowerLinks = new Map<string, OpenLowerLink>();
  /** How many layers have been applied: the position of the next one. */
  private position = 0;

  /** Applies the next layer up. */
  apply(scan: LayerScan): void {
    const position = this.position++;
    for (const dir of scan.opaqueDirs) this.removeBelow(dir);
    for (const path of scan.whiteouts) {
      this.remove(path);
      this.removeBelow(path);
    }
    for (const path of scan.hidden) {
      this.remove(path);
      this.removeBelow(path);
    }
    for (const path of scan.hiddenDirs) {
      if (this.files.get(path)?.entry.type !== 'dir') this.remove(path);
    }
    for (const { entry, data } of scan.files) this.put(entry, data);
    for (const { entry, target } of scan.lowerLinks) {
      this.put(entry, EMPTY);
      this.lowerLinks.set(entry.path, { path: entry.path, entry, target, below: position });
    }
    for (const s of scan.skipped) this.skipped.push(s);
  }

  /** The hard links to lower layers' files still in the view, in path order. */
  openLowerLinks(): OpenLowerLink[] {
    return [...this.lowerLinks.values()].sort((a, b) => compare(a.path, b.path));
  }

  /**
   * Gives a hard link to a lower layer's file its kept bytes, or takes it out (`undefined`; with the
   * reason it was skipped when its file is over the most it may read).
   */
  fillLowerLink(path: string, data: Buffer | undefined, skipped?: string): void {
    const link = this.lowerLinks.get(path);
    const file = this.files.get(path);
    if (!link || !file) return;
    this.lowerLinks.delete(path);
    if (skipped !== undefined) this.skipped.push({ path, reason: skipped });
    if (data === undefined) this.remove(path);
    else this.files.set(path, { ...file, entry: { ...file.entry, size: data.length }, data });
  }

  result(): WalkResult {
    const files = [...this.files.values()].sort((a, b) => compare(a.entry.path, b.entry.path));
    const skipped = [...this.skipped].sort((a, b) => compare(a.path, b.path) || compare(a.reason, b.reason));
    return { files, skipped };
  }

  private put(entry: FileEntry, data: Buffer): void {
    const previous = this.files.get(entry.path);
    if (entry.type !== 'dir') this.removeBelow(entry.path);
    const earlier = previous
      ? [...previous.earlier, { layer: previous.entry.layer ?? '', data: previous.data }]
      : [];
    if (!previous) this.count(entry.path, 1);
    this.lowerLinks.delete(entry.path);
    this.files.set(entry.path, { entry, data, earlier });
  }

  private remove(path: string): void {
    this.lowerLinks.delete(path);
    if (this.files.delete(path)) this.count(path, -1);
  }

  private removeBelow(dir: string): void {
    if (dir === '') {
      this.files.clear();
      this.underDir.clear();
      this.lowerLinks.clear();
      return;
    }
    if (!this.underDir.has(dir)) return;
    const prefix = `${dir}/`;
    for (const path of [...this.files.keys()]) if (path.startsWith(prefix)) this.remove(path);
  }

  private count(path: string, delta: number): void {
    let slash = path.indexOf('/');
    while (slash !== -1) {
      const dir = path.slice(0, slash);
      const n = (this.underDir.get(dir) ?? 0) + delta;
      if (n > 0) this.underDir.set(dir, n);
      else this.underDir.delete(dir);
      slash = path.indexOf('/', slash + 1);
    }
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

/** Plain code-unit order: deterministic and locale-independent. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
