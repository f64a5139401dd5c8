/**
 * The walk collector shared by the package walkers (.deb data.tar, .rpm cpio): offers each payload
 * entry to the filter and keeps what it wants, reading each payload once.
 */
import {
  type FileEntry,
  type FileFilter,
  SNIFF_BYTES,
  sizeLimit,
  tooLargeReason,
  type WalkedFile,
  type WalkResult,
} from '../../sources/types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from '../../sources/walk-options.ts';

/** One entry of a package payload (tar or cpio) as the walk collector sees it. */
export interface PayloadEntry {
  entry: FileEntry;
  peek(n: number): Promise<Buffer>;
  readAll(): Promise<Buffer>;
  /**
   * Other paths with the same content (cpio hard links whose data rides on this entry). Each is
   * offered to the filter on its own.
   */
  aliases?: FileEntry[];
}

/**
 * Keeps the entries a filter wants, reading each payload once: the shared logic of the .deb
 * (data.tar) and .rpm (cpio) walkers. Tar hard links get their target's data when the target was
 * kept (as the layer walker does); the last occurrence of a path wins.
 */
export async function collectPayload(
  entries: AsyncIterable<PayloadEntry>,
  filter: FileFilter,
  options: SourceWalkOptions,
): Promise<WalkResult> {
  const max = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const kept = new Map<string, WalkedFile>();
  const skipped = new Map<string, string>();
  for await (const item of entries) {
    options.signal?.throwIfAborted();
    const candidates = [item.entry, ...(item.aliases ?? [])];
    const linked =
      item.entry.type === 'hardlink' && item.entry.linkTarget !== undefined
        ? kept.get(item.entry.linkTarget)
        : undefined;
    if (linked) item.entry.size = linked.data.length;
    let head: Buffer | undefined;
    const wanted: FileEntry[] = [];
    for (const entry of candidates) {
      let keep = filter.want(entry);
      if (keep === 'sniff') {
        if (!filter.sniff) keep = false;
        else {
          head ??= linked ? linked.data.subarray(0, SNIFF_BYTES) : await item.peek(SNIFF_BYTES);
          keep = filter.sniff(entry, head);
        }
      }
      kept.delete(entry.path);
      skipped.delete(entry.path);
      if (!keep) continue;
      const limit = sizeLimit(filter, entry, max);
      if (entry.type === 'file' && entry.size > limit) {
        skipped.set(entry.path, tooLargeReason(entry.size, limit, max));
        continue;
      }
      wanted.push(entry);
    }
    if (wanted.length === 0) continue;
    let data: Buffer = Buffer.alloc(0);
    if (linked) data = linked.data;
    else if (item.entry.type === 'file') data = await item.readAll();
    for (const entry of wanted) {
      const hasContent = entry.type === 'file' || entry.type === 'hardlink';
      // Dropped on content (FileFilter.keep): as if not wanted; the delete above already forgot it.
      if (hasContent && filter.keep && !filter.keep(entry, data)) continue;
      kept.set(entry.path, { entry, data, earlier: [] });
    }
  }
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    files: [...kept.values()].sort((a, b) => byPath(a.entry.path, b.entry.path)),
    skipped: [...skipped.entries()]
      .map(([path, reason]) => ({ path, reason }))
      .sort((a, b) => byPath(a.path, b.path)),
  };
}
