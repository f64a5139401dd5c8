/**
 * Edits a tar file by rewriting it: files are read from the original on demand, changes are kept in
 * memory (they are small JSON documents), and `commit()` writes a complete NEW archive next to the
 * original, fsyncs it and renames it over the original. Until the rename the original is untouched;
 * after it, readers see the whole new archive. Unchanged entries (image layers) are streamed from the
 * original file, never buffered.
 *
 * The new archive is normalized for determinism: entries sorted by path, directories implied by
 * file paths added, uid/gid 0, mode 0644/0755, one mtime (default 0). Symlinks are kept; other
 * entry types (devices, fifos) do not occur in image archives and are dropped.
 */
import { open } from 'node:fs/promises';
import {
  indexTarFile,
  normalizeEntryPath,
  openIndexedEntry,
  type TarIndex,
  type TarIndexEntry,
} from '../archive/tar-reader.ts';
import { type TarEntryInput, type TarStreamSource, tarStream } from '../archive/tar-writer.ts';
import { WaybillError } from '../errors.ts';
import { AtomicFile } from '../util/atomic-write.ts';

export interface CommitOptions {
  /** mtime (seconds) for every entry of the new archive. Default 0. */
  mtime?: number;
  /**
   * Write the new archive to this NEW file (created exclusively, fsync'd) and leave the original as
   * it is: for a caller that publishes it later, with other files (util/staging.ts).
   */
  output?: string;
}

export class TarFileEditor {
  readonly path: string;
  /** Later entries with the same path win, as when tar extracts (see `indexTarFile`). */
  private readonly original: TarIndex;
  private readonly replaced = new Map<string, Buffer>();
  /** Large new entries (image layers copied in), streamed from their source when the archive is written. */
  private readonly streamed = new Map<string, TarStreamSource>();
  private readonly removed = new Set<string>();

  private constructor(path: string, original: TarIndex) {
    this.path = path;
    this.original = original;
  }

  static async open(path: string): Promise<TarFileEditor> {
    return new TarFileEditor(path, await indexTarFile(path));
  }

  /** An archive that does not exist yet: every entry is added, `commit` creates it. */
  static empty(path: string): TarFileEditor {
    return new TarFileEditor(path, new Map());
  }

  get changed(): boolean {
    return this.replaced.size > 0 || this.streamed.size > 0 || this.removed.size > 0;
  }

  has(path: string): boolean {
    const p = this.norm(path);
    if (this.replaced.has(p) || this.streamed.has(p)) return true;
    return !this.removed.has(p) && this.original.get(p)?.type === 'file';
  }

  /** Regular file paths currently in the archive. */
  files(): string[] {
    const out = new Set<string>([...this.replaced.keys(), ...this.streamed.keys()]);
    for (const [p, e] of this.original) if (e.type === 'file' && !this.removed.has(p)) out.add(p);
    return [...out].sort();
  }

  size(path: string): number | undefined {
    const p = this.norm(path);
    const r = this.replaced.get(p);
    if (r) return r.length;
    const streamed = this.streamed.get(p);
    if (streamed) return streamed.size;
    const e = this.removed.has(p) ? undefined : this.original.get(p);
    return e?.type === 'file' ? e.size : undefined;
  }

  async read(path: string, maxSize: number): Promise<Buffer> {
    const p = this.norm(path);
    const r = this.replaced.get(p);
    if (r) return r;
    if (this.streamed.has(p))
      throw new WaybillError('USAGE', `${this.path}:${p}`, 'a streamed entry is read only from its source');
    const e = this.removed.has(p) ? undefined : this.original.get(p);
    if (e?.type !== 'file')
      throw new WaybillError('NOT_FOUND', `${this.path}:${p}`, 'no such file in the archive');
    if (e.size > maxSize)
      throw new WaybillError('LIMIT', `${this.path}:${p}`, `is ${e.size} bytes, over ${maxSize}`);
    const handle = await open(this.path, 'r');
    try {
      const buf = Buffer.alloc(e.size);
      const { bytesRead } = await handle.read(buf, 0, e.size, e.offset);
      if (bytesRead !== e.size) throw new WaybillError('MALFORMED', this.path, `${p} is truncated`);
      return buf;
    } finally {
      await handle.close();
    }
  }

  put(path: string, bytes: Buffer): void {
    const p = this.norm(path);
    this.removed.delete(p);
    this.streamed.delete(p);
    this.replaced.set(p, bytes);
  }

  /** Adds or replaces an entry whose bytes are read from `source` only while the new archive is written. */
  putSource(path: string, source: TarStreamSource): void {
    const p = this.norm(path);
    this.removed.delete(p);
    this.replaced.delete(p);
    this.streamed.set(p, source);
  }

  remove(path: string): void {
    const p = this.norm(path);
    this.replaced.delete(p);
    this.streamed.delete(p);
    this.removed.add(p);
  }

  /**
   * Writes the new archive and renames it over the original (or to `options.output`). Returns false
   * when nothing changed. Until the rename the original is untouched; a failure removes the new file.
   */
  async commit(options: CommitOptions = {}): Promise<boolean> {
    if (!this.changed) return false;
    const file = options.output
      ? await AtomicFile.create(options.output, { tempPath: options.output })
      : await AtomicFile.create(this.path);
    try {
      await file.writeAll(tarStream(this.entries(), { mtime: options.mtime ?? 0 }));
      if (options.output) await file.finish();
    } catch (e) {
      await file.abort();
      throw e;
    }
    if (!options.output) await file.commit();
    return true;
  }

  private *entries(): Generator<TarEntryInput> {
    const files = this.files();
    const dirs = new Set<string>();
    const symlinks: TarIndexEntry[] = [];
    for (const [p, e] of this.original) {
      if (this.removed.has(p)) continue;
      if (e.type === 'dir') dirs.add(p);
      else if (e.type === 'symlink') symlinks.push(e);
    }
    for (const f of [...files, ...symlinks.map((s) => s.path)]) {
      const parts = f.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    const all: Array<{ sortKey: string; entry: () => TarEntryInput }> = [];
    for (const d of dirs) all.push({ sortKey: `${d}/`, entry: () => ({ path: d, type: 'dir' }) });
    for (const s of symlinks) {
      all.push({
        sortKey: s.path,
        entry: () => ({ path: s.path, type: 'symlink', linkTarget: s.linkTarget }),
      });
    }
    for (const f of files) all.push({ sortKey: f, entry: () => this.fileEntry(f) });
    all.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const item of all) yield item.entry();
  }

  private fileEntry(path: string): TarEntryInput {
    const replaced = this.replaced.get(path);
    if (replaced) return { path, data: replaced };
    const streamed = this.streamed.get(path);
    if (streamed) return { path, data: streamed };
    const e = this.original.get(path)!;
    return { path, data: { size: e.size, open: () => openIndexedEntry(this.path, e) } };
  }

  /** Callers' paths get the archive's own rules: relative, no `..`; and no NUL, which tar cannot hold. */
  private norm(path: string): string {
    if (path.includes('\0')) throw new WaybillError('UNSAFE_PATH', this.path, 'tar entry name contains NUL');
    return normalizeEntryPath(path, this.path);
  }
}
