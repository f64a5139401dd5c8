/**
 * Bytes for the hard links a layer makes to files of lower layers. image-spec layer.md applies each
 * layer onto the file system its lower layers made, so a hard link entry may name a path an earlier
 * layer wrote (umoci, Docker and containerd extract it with link(2) onto that file). The link's
 * content is then that file as the layers below the link left it: the highest lower layer that
 * writes the path gives it, unless a layer in between deleted or replaced it first.
 *
 * The filter rarely wanted the target itself (a package's METADATA linked from a store, a program
 * linked into bin/), so the layers below are read again, top down, for just those paths: one pass
 * per layer while a link is unresolved, and none for images without such links.
 */
import type { OverlayView } from './layer-merge.ts';
import { type LayerJob, rescanLayer } from './layer-scan.ts';
import { type FileEntry, type FileFilter, linkedBytes, sizeLimit } from './types.ts';

export async function resolveLowerLinks(
  view: OverlayView,
  jobs: readonly LayerJob[],
  filter: FileFilter,
  signal?: AbortSignal,
): Promise<void> {
  const open = new Map(view.openLowerLinks().map((link) => [link.path, { ...link }]));
  if (open.size === 0) return;
  const top = Math.max(...[...open.values()].map((link) => link.below));
  for (let position = top - 1; position >= 0 && open.size > 0; position--) {
    const waiting = [...open.values()].filter((link) => link.below > position);
    const job = jobs[position];
    if (waiting.length === 0 || !job) continue;
    // Each target read at most as far as a link to it may read (FileFilter.maxSize of the link).
    const limits = new Map<string, number>();
    for (const link of waiting) {
      const limit = sizeLimit(filter, link.entry, job.maxFileSize);
      limits.set(link.target, Math.max(limit, limits.get(link.target) ?? 0));
    }
    const layer = await readTargets(job, limits, signal);
    for (const link of waiting) {
      const data = layer.bytes.get(link.target);
      const further = layer.linksDown.get(link.target);
      if (data !== undefined) view.fillLowerLink(link.path, linkedBytes(filter, link.entry, data));
      else if (further !== undefined) {
        // The target is itself a link to a lower layer's file: the same file, further down.
        link.target = further;
        continue;
      } else if (!layer.removes(link.target)) continue;
      else view.fillLowerLink(link.path, undefined, layer.tooLarge.get(link.target));
      open.delete(link.path);
    }
  }
  // No layer holds the target: extraction fails on such a link, so it is no file.
  for (const link of open.values()) view.fillLowerLink(link.path, undefined);
}

interface TargetsInLayer {
  /** The targets this layer holds as files (hard links within it resolved), by path. */
  bytes: Map<string, Buffer>;
  /** The targets this layer holds as hard links to a lower layer's file: target → that file. */
  linksDown: Map<string, string>;
  /** Whether the layer deletes or replaces `target` without giving it bytes: the search ends there. */
  removes(target: string): boolean;
  /** Targets this layer holds over the most their links may read: why. */
  tooLarge: Map<string, string>;
}

/** One more pass over a layer for the given paths, and what it does to them besides. */
async function readTargets(
  job: LayerJob,
  targets: ReadonlyMap<string, number>,
  signal: AbortSignal | undefined,
): Promise<TargetsInLayer> {
  const ancestors = new Set([...targets.keys()].flatMap(parentsOf));
  /** Targets, or their parent directories, this layer writes as something other than the file. */
  const replaced = new Set<string>();
  const each = (entry: FileEntry) => {
    if (
      (targets.has(entry.path) && entry.type !== 'file' && entry.type !== 'hardlink') ||
      (ancestors.has(entry.path) && entry.type !== 'dir')
    )
      replaced.add(entry.path);
  };
  const scan = await rescanLayer(job, targets, {
    types: ['file', 'hardlink'],
    each,
    ...(signal ? { signal } : {}),
  });
  const bytes = new Map(scan.files.map((f) => [f.entry.path, f.data]));
  const linksDown = new Map(scan.lowerLinks.map((l) => [l.entry.path, l.target]));
  // A target over its limit is the file the link names all the same: no bytes, and no lower copy.
  const deleted = new Set([...scan.whiteouts, ...scan.hidden, ...scan.skipped.map((s) => s.path)]);
  const opaque = new Set(scan.opaqueDirs);
  return {
    bytes,
    linksDown,
    tooLarge: new Map(scan.skipped.map((s) => [s.path, s.reason])),
    removes: (target) =>
      deleted.has(target) ||
      replaced.has(target) ||
      opaque.has('') ||
      parentsOf(target).some((dir) => deleted.has(dir) || replaced.has(dir) || opaque.has(dir)),
  };
}

/** `a/b/c` → `a`, `a/b`. */
function parentsOf(path: string): string[] {
  const out: string[] = [];
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1))
    out.push(path.slice(0, slash));
  return out;
}
