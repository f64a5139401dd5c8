/**
 * What a layer scan does with each tar entry, as the entries go by (a `TarPushHandler`): whiteouts
 * and opaque-directory markers noted, each entry shown to the filter (from its header, then from its
 * first bytes when the filter sniffs), and the content of the files it keeps collected — into one
 * reused buffer when a content predicate will drop most of them, to disk for large files the filter
 * condenses, else into a buffer of their own. Unwanted content is passed over without a copy.
 */
import type { ArtifactBudget } from '../archive/artifact-budget.ts';
import type { TarPushHandler } from '../archive/tar-push.ts';
import type { TarHeader } from '../archive/tar-reader.ts';
import { keptFromFile, SPILL_MIN_BYTES, SpilledFile } from './spill.ts';
import {
  type FileEntry,
  type FileFilter,
  keptBytes,
  LINK_SIZE_PROBE,
  linkedBytes,
  SNIFF_BYTES,
  sizeLimit,
  tooLargeReason,
} from './types.ts';

export interface ScannedFile {
  entry: FileEntry;
  data: Buffer;
}

export interface LayerScan {
  /** Wanted entries in this layer (the last one wins when a path repeats). */
  files: ScannedFile[];
  /** Paths deleted from lower layers (`.wh.NAME` → NAME). */
  whiteouts: string[];
  /** Directories whose lower-layer contents are hidden (`.wh..wh..opq`), '' for the root. */
  opaqueDirs: string[];
  /** Non-directory entries not kept: they still replace lower versions of their path. */
  hidden: string[];
  /** Directory entries not kept: they replace a lower non-directory at the same path. */
  hiddenDirs: string[];
  /**
   * Wanted hard links to a path this layer does not hold: a file of a lower layer (image-spec
   * layer.md applies a layer onto the file system below it, so umoci, Docker and containerd link to
   * it). Their bytes are the target's as the layers below left it (sources/layer-lower-links.ts).
   */
  lowerLinks: LowerLink[];
  skipped: Array<{ path: string; reason: string }>;
  /** Uncompressed bytes and archive entries read: what applying this layer again costs the budget. */
  bytes: number;
  entries: number;
}

/** A wanted hard link whose target is in a lower layer. */
export interface LowerLink {
  entry: FileEntry;
  target: string;
}

/** Where wanted hard links lead in their layer. */
export interface LinkTargets {
  /** Target → the bytes of the file it names in this layer. */
  bytes: Map<string, Buffer>;
  /** Targets whose file this layer holds, as a file or as something else (no bytes then). */
  present: Set<string>;
  /** Targets this layer does not hold, or holds as a hard link to a path it does not: that path. */
  lower: Map<string, string>;
  /** Targets over the most their links may read: why (as for a file over its limit). */
  tooLarge: Map<string, string>;
}

/** What the entries of a layer are read as. */
export interface EntryOptions {
  /** Interpret `.wh.` whiteouts and opaque-dir markers (image layers only). */
  image: boolean;
  /** Recorded as FileEntry.layer. */
  layer?: string;
  /** Wanted files larger than this are skipped with a reason. */
  maxFileSize: number;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Files up to this size are read into the reused buffer when the filter has a content predicate;
 * larger ones a filter can condense are condensed from disk (spill.ts), so neither this buffer nor
 * any one file costs more memory than this.
 */
const SCRATCH_MAX_BYTES = SPILL_MIN_BYTES;

/** Grows in powers of two from 1 MiB, so a run of slightly larger files does not reallocate each time. */
function scratchSizeFor(size: number): number {
  let n = 1024 * 1024;
  while (n < size) n *= 2;
  return Math.min(n, SCRATCH_MAX_BYTES);
}

/** AUFS whiteout prefix (image-spec layer.md "Whiteouts"). */
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Where a kept file's content goes while it arrives. */
interface Collector {
  write(piece: Buffer): void;
  /** The bytes the walk keeps (`keptBytes`), or undefined when the filter drops them. */
  finish(): Buffer | undefined;
  /** Stops early (the scan failed): releases what it holds. */
  discard(): void;
}

/** Into `target` (exactly the content's size); `reused`: a buffer the next file overwrites. */
function bufferCollector(filter: FileFilter, entry: FileEntry, target: Buffer, reused: boolean): Collector {
  let at = 0;
  return {
    write(piece) {
      at += piece.copy(target, at);
    },
    finish: () => keptBytes(filter, entry, target, reused),
    discard() {},
  };
}

/**
 * Content that stays where it is: an entry of a layer stored uncompressed in a file (a
 * docker-archive's layers), whose bytes are at `start` in `fd`, is condensed from there once it has
 * gone by (read, hashed and parsed), instead of being copied to a spill file first: a large image's
 * Go programs are hundreds of MiB written, read back and deleted for nothing. The bytes read back are
 * the archive's own, at the same place as those just hashed.
 */
function inPlaceCollector(filter: FileFilter, entry: FileEntry, fd: number, start: number): Collector {
  return {
    write() {},
    finish: () => keptFromFile(filter, entry, fd, entry.size, start),
    discard() {},
  };
}

function spillCollector(filter: FileFilter, entry: FileEntry): Collector {
  const spilled = new SpilledFile();
  return {
    write: (piece) => spilled.write(piece),
    finish: () => spilled.kept(filter, entry),
    discard: () => spilled.discard(),
  };
}

/** The entry whose content is arriving, when anything is done with it. */
type Current =
  /** Its first bytes are being gathered for the filter's `sniff`. */
  | { kind: 'sniff'; entry: FileEntry; header: TarHeader; head: Buffer; got: number }
  | { kind: 'collect'; entry: FileEntry; collector: Collector };

export class LayerEntries implements TarPushHandler {
  readonly scan: LayerScan = {
    files: [],
    whiteouts: [],
    opaqueDirs: [],
    hidden: [],
    hiddenDirs: [],
    lowerLinks: [],
    skipped: [],
    bytes: 0,
    entries: 0,
  };
  /**
   * Wanted hard links whose target the filter did not want (a pnpm store's file, a venv's METADATA
   * linked from a cache): link path → the link and the path its content is stored under. Their bytes
   * come from a second pass over the layer (`resolveLinks`).
   */
  private readonly pending = new Map<string, { entry: FileEntry; target: string }>();
  /**
   * Files the filter wanted but whose content it then dropped (an executable without Go build info,
   * a file over maxFileSize): a hard link to one is the same bytes and is dropped too, without a
   * second pass (git's and perl's hard-linked programs would otherwise cost one per layer).
   */
  private readonly dropped = new Set<string>();
  /** Wanted entries by path; the last occurrence of a path wins, in archive order. */
  private readonly files = new Map<string, ScannedFile>();
  private scratch: Buffer = EMPTY;
  private current: Current | undefined;
  private readonly job: EntryOptions;
  private readonly filter: FileFilter;
  private readonly budget: ArtifactBudget | undefined;
  /** The layer's bytes as stored in a file, uncompressed (`storedAt`). */
  private stored: { fd: number; start: number; position: () => number } | undefined;
  /** Where the current entry's content starts in that file. */
  private contentAt = 0;

  constructor(job: EntryOptions, filter: FileFilter, budget: ArtifactBudget | undefined) {
    this.job = job;
    this.filter = filter;
    this.budget = budget;
  }

  /**
   * The layer is stored uncompressed in the open file `fd` from `start`, and `position` tells how
   * many of its bytes the tar parser has taken: large entries are then condensed where they lie.
   */
  storedAt(fd: number, start: number, position: () => number): void {
    this.stored = { fd, start, position };
  }

  entry(header: TarHeader): void {
    this.current = undefined;
    // Called right after the header: the content starts at the parser's position.
    if (this.stored) this.contentAt = this.stored.start + this.stored.position();
    const scan = this.scan;
    scan.entries++;
    this.budget?.chargeEntries(1);
    const path = header.path;
    const slash = path.lastIndexOf('/');
    // Names are cut apart only for the rare whiteouts: this runs for every entry of every layer.
    if (this.job.image && path.startsWith(WHITEOUT, slash + 1)) {
      const dir = slash < 0 ? '' : path.slice(0, slash);
      const base = path.slice(slash + 1);
      if (base === OPAQUE) {
        scan.opaqueDirs.push(dir);
        return;
      }
      // Other `.wh..wh.` names are AUFS bookkeeping (hard-link directory `.wh..wh.plnk`), not files.
      if (base.startsWith(`${WHITEOUT}${WHITEOUT}`)) return;
      if (base.startsWith(WHITEOUT)) {
        const name = base.slice(WHITEOUT.length);
        scan.whiteouts.push(dir === '' ? name : `${dir}/${name}`);
        return;
      }
    }
    const entry: FileEntry = { path, type: header.type, size: header.size, mode: header.mode };
    if (header.linkTarget !== undefined) entry.linkTarget = header.linkTarget;
    if (this.job.layer) entry.layer = this.job.layer;
    // Hard links: the content is the target's, found earlier in this same archive when kept.
    const linked = header.type === 'hardlink' ? this.files.get(header.linkTarget as string) : undefined;
    if (linked) entry.size = linked.entry.size;

    if (this.pending.size > 0) this.pending.delete(path); // a later entry replaces the link
    const unsized = header.type === 'hardlink' && !linked;
    const keep = this.filter.want(unsized ? { ...entry, size: LINK_SIZE_PROBE } : entry);
    const target = header.linkTarget as string;
    if (unsized && keep !== false) {
      if (this.dropped.has(target)) {
        this.decide(entry, header, false, undefined);
        return;
      }
      this.files.delete(path);
      // A link to a link still waiting: both name the first file's content.
      const stored = this.pending.get(target)?.target ?? target;
      this.pending.set(path, { entry, target: stored });
      return;
    }
    if (keep !== 'sniff') {
      this.decide(entry, header, keep, linked);
      return;
    }
    const sniffed = linked ? linked.data : header.size === 0 ? EMPTY : undefined;
    if (sniffed) this.decide(entry, header, this.sniff(entry, sniffed.subarray(0, SNIFF_BYTES)), linked);
    else {
      const head = Buffer.allocUnsafe(Math.min(SNIFF_BYTES, header.size));
      this.current = { kind: 'sniff', entry, header, head, got: 0 };
    }
  }

  content(piece: Buffer): void {
    const current = this.current;
    if (!current) return;
    if (current.kind === 'collect') {
      current.collector.write(piece);
      return;
    }
    const n = piece.copy(current.head, current.got);
    current.got += n;
    if (current.got < current.head.length) return;
    const { entry, header, head } = current;
    this.current = undefined;
    const keep = this.sniff(entry, head);
    if (!keep) this.dropped.add(entry.path);
    this.decide(entry, header, keep, undefined);
    const collecting = this.current as Current | undefined;
    if (collecting?.kind !== 'collect') return;
    collecting.collector.write(head);
    if (n < piece.length) collecting.collector.write(piece.subarray(n));
  }

  end(): void {
    const current = this.current;
    this.current = undefined;
    if (current?.kind !== 'collect') return;
    const kept = current.collector.finish();
    const { path } = current.entry;
    // Dropped on content: like an unwanted entry, it still replaces lower versions of its path.
    if (kept === undefined) {
      this.scan.hidden.push(path);
      this.dropped.add(path);
    } else this.files.set(path, { entry: current.entry, data: kept });
  }

  /**
   * The paths whose content the pending hard links need (none: no second pass), each with the most
   * its links may read (`sizeLimit` of the link: a package database linked to a huge file is no
   * smaller a bomb for being a link).
   */
  linkTargets(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { entry, target } of this.pending.values()) {
      const limit = sizeLimit(this.filter, entry, this.job.maxFileSize);
      out.set(target, Math.max(limit, out.get(target) ?? 0));
    }
    return out;
  }

  /**
   * Gives the pending hard links their targets' bytes, read by a second pass over the layer, and
   * decides each as if its content had come with it. A target this layer holds but gave no bytes
   * for (not a file, or over maxFileSize) leaves the link hidden, as an unwanted entry; one it does
   * not hold at all (`present`) is a lower layer's file, resolved once the layers are stacked.
   */
  resolveLinks({ bytes, present, lower, tooLarge }: LinkTargets): void {
    for (const [path, { entry, target }] of this.pending) {
      const data = bytes.get(target);
      if (data === undefined && !present.has(target) && this.job.image) {
        this.scan.lowerLinks.push({ entry, target: lower.get(target) ?? target });
        continue;
      }
      entry.size = data?.length ?? 0;
      const kept = data !== undefined ? linkedBytes(this.filter, entry, data) : undefined;
      const reason = tooLarge.get(target);
      if (reason !== undefined) this.scan.skipped.push({ path, reason });
      if (kept === undefined) this.scan.hidden.push(path);
      else this.files.set(path, { entry, data: kept });
    }
    this.pending.clear();
  }

  /** The scan, once the archive has ended. */
  result(): LayerScan {
    this.scan.files = [...this.files.values()];
    return this.scan;
  }

  /** The scan stopped early: temporary files go. */
  discard(): void {
    if (this.current?.kind === 'collect') this.current.collector.discard();
    this.current = undefined;
  }

  private sniff(entry: FileEntry, head: Buffer): boolean {
    return this.filter.sniff ? this.filter.sniff(entry, head) : false;
  }

  /** Acts on the filter's decision for an entry: hidden, kept without content, or collected. */
  private decide(entry: FileEntry, header: TarHeader, keep: boolean, linked: ScannedFile | undefined): void {
    const { path } = entry;
    const scan = this.scan;
    const max = keep ? sizeLimit(this.filter, entry, this.job.maxFileSize) : this.job.maxFileSize;
    if (!keep || (header.type === 'file' && entry.size > max)) {
      if (keep) {
        scan.skipped.push({ path, reason: tooLargeReason(entry.size, max, this.job.maxFileSize) });
        this.dropped.add(path);
      }
      this.files.delete(path);
      if (header.type === 'dir') scan.hiddenDirs.push(path);
      else scan.hidden.push(path);
      return;
    }
    this.files.delete(path); // keep archive order of the last occurrence
    if (header.type !== 'file' && header.type !== 'hardlink') {
      this.files.set(path, { entry, data: EMPTY });
      return;
    }
    if (linked) {
      const kept = keptBytes(this.filter, entry, linked.data, false);
      if (kept === undefined) {
        scan.hidden.push(path);
        this.dropped.add(path);
      } else this.files.set(path, { entry, data: kept });
      return;
    }
    this.current = { kind: 'collect', entry, collector: this.collector(entry) };
  }

  private collector(entry: FileEntry): Collector {
    const filter = this.filter;
    const size = entry.size;
    if (filter.condense && size > SPILL_MIN_BYTES)
      return this.stored
        ? inPlaceCollector(filter, entry, this.stored.fd, this.contentAt)
        : spillCollector(filter, entry);
    if ((filter.keep || filter.condense) && size <= SCRATCH_MAX_BYTES) {
      // Most files a content predicate sees are dropped (executables without Go build info) or
      // condensed: read them into one reused buffer and copy out only what is kept, instead of
      // allocating each (external memory that drives V8 into a mark-compact every few MiB).
      if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(scratchSizeFor(size));
      return bufferCollector(filter, entry, this.scratch.subarray(0, size), true);
    }
    return bufferCollector(filter, entry, Buffer.allocUnsafe(size), false);
  }
}
