/**
 * The benchmark's floor (issue 9 item 8): the least work any tool that verifies an image must do,
 * done by Node itself on two threads. For an image, every layer blob is read once, SHA-256-hashed
 * (its digest), decompressed with Node's zlib (gzip or zstd) and the decompressed bytes hashed again
 * (the diff_id); an uncompressed layer is hashed once, its digest being its diff_id. For a directory,
 * the tree is listed once and every regular file read and hashed (what a tree digest needs). Blobs or
 * files are shared out to two worker threads, each taking the next when done.
 *
 *   node scripts/bench-floor.ts oci LAYOUT_DIR          the image tagged `latest` (or the only one)
 *   node scripts/bench-floor.ts docker-archive TAR      layers read in place inside the archive
 *   node scripts/bench-floor.ts dir DIR
 *
 * Prints one JSON line: bytes read, bytes decompressed, items. Timing and peak RSS are measured
 * from outside (scripts/bench.ts runs it under /usr/bin/time like every other tool).
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import zlib from 'node:zlib';
import { indexTarFile } from '../src/archive/tar-reader.ts';

export interface FloorJob {
  file: string;
  start: number;
  size: number;
  /** Compressed layer: hash, decompress, hash again; `none`: hash once; `file`: a whole file. */
  kind: 'gzip' | 'zstd' | 'none' | 'file';
}

const THREADS = 2;
const CHUNK = 1024 * 1024;

// ---- the jobs of each input kind ----------------------------------------------------------------

function compressionOf(mediaType: string): FloorJob['kind'] {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd')) return 'zstd';
  return 'none';
}

async function ociJobs(layout: string): Promise<FloorJob[]> {
  const blob = (digest: string) => join(layout, 'blobs', ...digest.split(':'));
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const top =
    index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'latest') ??
    index.manifests[0];
  if (!top) throw new Error(`${layout}: empty index`);
  const manifest = JSON.parse(await readFile(blob(top.digest), 'utf8')) as {
    layers: Array<{ digest: string; size: number; mediaType: string }>;
  };
  return manifest.layers.map((l) => ({
    file: blob(l.digest),
    start: 0,
    size: l.size,
    kind: compressionOf(l.mediaType),
  }));
}

async function dockerArchiveJobs(tar: string): Promise<FloorJob[]> {
  const index = await indexTarFile(tar);
  const manifestEntry = index.get('manifest.json');
  if (!manifestEntry) throw new Error(`${tar}: no manifest.json`);
  const handle = openSync(tar, 'r');
  const head = Buffer.alloc(Math.min(manifestEntry.size, 16 * CHUNK));
  readSync(handle, head, 0, head.length, manifestEntry.offset);
  const [image] = JSON.parse(head.toString('utf8')) as Array<{ Layers: string[] }>;
  const jobs: FloorJob[] = [];
  for (const name of image?.Layers ?? []) {
    let entry = index.get(name);
    // docker save links repeated layers; follow within the archive.
    for (let hops = 0; entry?.type === 'symlink' && hops < 8; hops++)
      entry = index.get(join(name, '..', entry.linkTarget ?? '').replace(/^\/+/, ''));
    if (!entry) throw new Error(`${tar}: layer ${name} missing`);
    const magic = Buffer.alloc(4);
    readSync(handle, magic, 0, 4, entry.offset);
    const kind =
      magic[0] === 0x1f && magic[1] === 0x8b
        ? 'gzip'
        : magic.readUInt32BE(0) === 0x28b52ffd
          ? 'zstd'
          : 'none';
    jobs.push({ file: tar, start: entry.offset, size: entry.size, kind });
  }
  closeSync(handle);
  return jobs;
}

async function dirJobs(root: string): Promise<FloorJob[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const jobs: FloorJob[] = [];
  for (const e of entries)
    if (e.isFile()) jobs.push({ file: join(e.parentPath, e.name), start: 0, size: -1, kind: 'file' });
  return jobs;
}

// ---- the work: one job at a time, on a worker thread --------------------------------------------

async function runJob(job: FloorJob, buffer: Buffer): Promise<{ read: number; inflated: number }> {
  if (job.kind === 'file' || job.kind === 'none') {
    // Synchronous reads into one reused buffer: nothing faster exists in Node for hashing files.
    const hash = createHash('sha256');
    const fd = openSync(job.file, 'r');
    let read = 0;
    try {
      for (;;) {
        const want = job.size < 0 ? buffer.length : Math.min(buffer.length, job.size - read);
        if (want === 0) break;
        const n = readSync(fd, buffer, 0, want, job.start + read);
        if (n === 0) break;
        hash.update(buffer.subarray(0, n));
        read += n;
      }
    } finally {
      closeSync(fd);
    }
    hash.digest();
    return { read, inflated: 0 };
  }
  const compressed = createHash('sha256');
  const uncompressed = createHash('sha256');
  const source = createReadStream(job.file, {
    start: job.start,
    end: job.start + job.size - 1,
    highWaterMark: CHUNK,
  });
  const inflate =
    job.kind === 'gzip'
      ? zlib.createGunzip({ chunkSize: 128 * 1024 })
      : zlib.createZstdDecompress({ chunkSize: 128 * 1024 });
  let read = 0;
  let inflated = 0;
  source.on('data', (chunk: string | Buffer) => {
    compressed.update(chunk);
    read += chunk.length;
  });
  source.pipe(inflate);
  for await (const chunk of inflate as AsyncIterable<Buffer>) {
    uncompressed.update(chunk);
    inflated += chunk.length;
  }
  compressed.digest();
  uncompressed.digest();
  return { read, inflated };
}

if (!isMainThread) {
  const buffer = Buffer.allocUnsafe(CHUNK);
  const jobs = workerData as FloorJob[];
  let read = 0;
  let inflated = 0;
  for (const job of jobs) {
    const r = await runJob(job, buffer);
    read += r.read;
    inflated += r.inflated;
  }
  parentPort?.postMessage({ read, inflated });
}

/**
 * Shares jobs out to the threads before they start (largest first, each to the least loaded thread):
 * the same balance a work queue reaches, without messages per job.
 */
function share(jobs: FloorJob[], threads: number): FloorJob[][] {
  const out: FloorJob[][] = Array.from({ length: threads }, () => []);
  const load = new Array<number>(threads).fill(0);
  const sized = jobs.map((job, i) => ({
    job,
    weight: job.size < 0 ? i : job.size * (job.kind === 'none' ? 1 : 4),
  }));
  if (jobs.every((j) => j.size >= 0)) sized.sort((a, b) => b.weight - a.weight);
  for (const { job, weight } of sized) {
    const t = load.indexOf(Math.min(...load));
    out[t]?.push(job);
    load[t] = (load[t] ?? 0) + (job.size < 0 ? 1 : weight);
  }
  return out;
}

export async function runFloor(
  kind: string,
  path: string,
): Promise<{ read: number; inflated: number; items: number }> {
  const jobs =
    kind === 'oci'
      ? await ociJobs(path)
      : kind === 'docker-archive'
        ? await dockerArchiveJobs(path)
        : kind === 'dir'
          ? await dirJobs(path)
          : undefined;
  if (!jobs) throw new Error(`unknown input kind ${kind} (oci, docker-archive, dir)`);
  const parts = share(jobs, THREADS);
  const results = await Promise.all(
    parts.map(
      (part) =>
        new Promise<{ read: number; inflated: number }>((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: part });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  return {
    read: results.reduce((n, r) => n + r.read, 0),
    inflated: results.reduce((n, r) => n + r.inflated, 0),
    items: jobs.length,
  };
}

if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [kind, path] = process.argv.slice(2);
  if (!kind || !path) {
    process.stderr.write('usage: node scripts/bench-floor.ts oci|docker-archive|dir PATH\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await runFloor(kind, path))}\n`);
}
