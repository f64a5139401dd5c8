/**
 * Walks a stack of layers: each distinct layer is scanned once (on worker threads when a filter
 * module is given, else in-process, several at once) and the scans are stacked in layer order,
 * whichever finishes first. Results are applied as soon as every lower layer has been, so memory
 * holds at most the scans that finished out of order, and the scans of layers that repeat higher up.
 *
 * Repeated layers: an image may list the same blob more than once (empty layers often repeat). Its
 * changeset is a function of its bytes, so one scan is applied at each position where it appears —
 * applying it again after other layers can change the view, so it is re-applied, never skipped — and
 * is decompressed only once. The artifact's budget (archive/artifact-budget.ts) is still charged at
 * every position, as an image runtime would extract it each time: ten thousand copies of a 1 GiB
 * layer are refused with LIMIT after one inflate, instead of taking hours.
 */
import { Worker } from 'node:worker_threads';
import { ArtifactBudget, artifactLimits, checkLayerCount } from '../archive/artifact-budget.ts';
import { type ErrorCode, WaybillError } from '../errors.ts';
import { HashLane } from '../util/hash-lane.ts';
import { siblingModule } from '../util/sibling-module.ts';
import { resolveLowerLinks } from './layer-lower-links.ts';
import { OverlayView } from './layer-merge.ts';
import { type LayerJob, type LayerScan, sameBytes, scanLayer, unpackScan } from './layer-scan.ts';
import type { WorkerReply, WorkerRequest } from './layer-worker.ts';
import type { FileFilter, WalkResult } from './types.ts';
import {
  type FilterModuleSpec,
  hashThreadWanted,
  resolveWorkerCount,
  type SourceWalkOptions,
} from './walk-options.ts';

const WORKER_YOUNG_GENERATION_MB = 4;

export async function walkLayers(
  jobs: LayerJob[],
  filter: FileFilter,
  options: SourceWalkOptions = {},
  artifact = jobs[0]?.input ?? 'artifact',
): Promise<WalkResult> {
  const attempt = { outOfOrder: false, budgetPassed: false };
  try {
    return await walkOnce(jobs, filter, options, artifact, attempt);
  } catch (e) {
    // Worker lanes scan layers out of order (biggest first) against one shared budget, so which
    // layer passed it first, and so which error is the lowest, is a matter of timing. A walk that
    // failed after passing the budget is walked again in layer order on this thread, whose error is
    // the one a one-by-one walk gives, every time (only a failing walk pays for it).
    if (!(attempt.outOfOrder && attempt.budgetPassed)) throw e;
    return walkOnce(jobs, filter, { ...options, workers: 0 }, artifact, attempt);
  }
}

async function walkOnce(
  jobs: LayerJob[],
  filter: FileFilter,
  options: SourceWalkOptions,
  artifact: string,
  attempt: { outOfOrder: boolean; budgetPassed: boolean },
): Promise<WalkResult> {
  options.signal?.throwIfAborted();
  const limits = artifactLimits();
  checkLayerCount(jobs.length, limits, artifact);
  const budget = ArtifactBudget.create(limits, artifact);
  const plan = planLayers(jobs, budget);
  const total = plan.distinct.reduce((sum, job) => sum + job.location.size, 0);
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  const view = new OverlayView();
  const applyDistinct = stackInOrder(plan, budget, (scan) => view.apply(scan));
  const workers = options.filterModule
    ? resolveWorkerCount(options.workers, plan.distinct.map(layerWork))
    : 0;
  const onWorkers = options.filterModule !== undefined && workers > 1;
  // The main thread's layers are hashed beside it: reading alone, it leaves a core free; with
  // workers, it takes the biggest layer, whose hashing then overlaps the workers' shorter scans
  // (medium images, docs/bench.md). Workers hash their own: a thread beside each only contends.
  const hashLane = hashThreadWanted(
    options.hashThread,
    plan.distinct.map((job) => job.location.size),
  )
    ? HashLane.start()
    : undefined;
  try {
    if (onWorkers && options.filterModule) {
      await scanOnWorkers(
        plan.distinct,
        filter,
        options.filterModule,
        workers,
        onBytes,
        hashLane,
        options.signal,
        applyDistinct,
      );
    } else {
      const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
      await scanInProcess(
        plan.distinct,
        filter,
        concurrency,
        onBytes,
        hashLane,
        options.signal,
        applyDistinct,
      );
    }
  } finally {
    hashLane?.close();
    attempt.outOfOrder = onWorkers;
    attempt.budgetPassed = budget.passed;
  }
  await resolveLowerLinks(view, jobs, filter, options.signal);
  return view.result();
}

interface LayerPlan {
  /** One job per distinct layer, in order of first appearance, each charging the shared budget. */
  distinct: LayerJob[];
  /** For each position in the image, the index of its layer in `distinct`. */
  slotOf: number[];
  /** For each distinct layer, the first position it appears at (where it is scanned). */
  firstUse: number[];
  /** For each distinct layer, the last position it appears at (its scan is dropped after that). */
  lastUse: number[];
}

/**
 * Groups positions by layer: the compressed digest names the bytes (a job without one, a plain
 * tarball, is its own layer). The same blob listed with two different diff_ids cannot be right:
 * the same compressed bytes have one uncompressed form.
 */
function planLayers(jobs: LayerJob[], budget: ArtifactBudget): LayerPlan {
  const distinct: LayerJob[] = [];
  const slotOf: number[] = [];
  const firstUse: number[] = [];
  const lastUse: number[] = [];
  const slotByDigest = new Map<string, number>();
  jobs.forEach((job, position) => {
    const seen = job.digest === undefined ? undefined : slotByDigest.get(job.digest);
    if (seen === undefined) {
      const slot = distinct.length;
      distinct.push({ ...job, budget: budget.state });
      if (job.digest !== undefined) slotByDigest.set(job.digest, slot);
      slotOf.push(slot);
      firstUse.push(position);
      lastUse.push(position);
      return;
    }
    const first = distinct[seen] as LayerJob;
    if (first.diffId !== job.diffId) {
      throw new WaybillError(
        'MALFORMED',
        job.input,
        `repeats the blob of ${first.input} with another diff_id (${job.diffId ?? 'none'} vs ${first.diffId ?? 'none'})`,
      );
    }
    slotOf.push(seen);
    lastUse[seen] = position;
  });
  return { distinct, slotOf, firstUse, lastUse };
}

/**
 * Receives the distinct layers' scans in order and applies every position whose scan has arrived,
 * in image order. A repeat position charges the budget with the scan's bytes and entries again.
 */
function stackInOrder(
  plan: LayerPlan,
  budget: ArtifactBudget,
  apply: (scan: LayerScan) => void,
): (scan: LayerScan) => void {
  const available = new Map<number, LayerScan>();
  let arrived = 0;
  let position = 0;
  return (scan) => {
    available.set(arrived++, scan);
    while (position < plan.slotOf.length) {
      const slot = plan.slotOf[position] as number;
      const ready = available.get(slot);
      if (!ready) break;
      if (plan.firstUse[slot] !== position) {
        // Scanned once; every later position costs what extracting it again would.
        budget.chargeBytes(ready.bytes);
        budget.chargeEntries(ready.entries);
      }
      apply(ready);
      if (plan.lastUse[slot] === position) available.delete(slot);
      position++;
    }
  };
}

/**
 * Scans up to `concurrency` layers at once on this thread, their chunks interleaved (each scan
 * yields between chunks). Scans are applied strictly in layer order; a window of `concurrency`
 * layers bounds how many finished scans wait for a slower lower layer. Errors are those a one-by-one walk would give:
 * the lowest failing layer's; a failure cancels only the layers above it.
 */
async function scanInProcess(
  jobs: LayerJob[],
  filter: FileFilter,
  concurrency: number,
  onBytes: (n: number) => void,
  hashLane: HashLane | undefined,
  signal: AbortSignal | undefined,
  applyInOrder: (scan: LayerScan) => void,
): Promise<void> {
  const controllers = jobs.map(() => new AbortController());
  const cancelAbove = (index: number) => {
    for (let j = index + 1; j < controllers.length; j++) controllers[j]?.abort(new Error('cancelled'));
  };
  const running: Array<Promise<LayerScan>> = [];
  const start = (index: number) => {
    const own = (controllers[index] as AbortController).signal;
    const scan = scanLayer(jobs[index] as LayerJob, filter, {
      onBytes,
      signal: signal ? AbortSignal.any([signal, own]) : own,
      ...(hashLane ? { hashLane } : {}),
    });
    // Handled here so a failure while a lower layer is awaited is not an unhandled rejection.
    scan.catch(() => cancelAbove(index));
    running[index] = scan;
  };
  let started = 0;
  try {
    while (started < Math.min(concurrency, jobs.length)) start(started++);
    for (let i = 0; i < jobs.length; i++) {
      const scan = await (running[i] as Promise<LayerScan>);
      delete running[i];
      applyInOrder(scan);
      if (started < jobs.length) start(started++);
    }
  } catch (e) {
    cancelAbove(-1);
    throw e;
  }
}

/**
 * Scans layers in `count` lanes — the main thread and `count - 1` worker threads — each taking the
 * next layer when it finishes one (the main thread with `filter`, workers with the same filter
 * rebuilt from `filterModule`). Scans are applied in layer order as they arrive. Errors are the in-process walk's: a failed layer is
 * reported only once every layer below it has been applied (a lower failure wins), and no layer
 * above a failed one is started. Every worker is terminated when the walk settles, however it ends.
 */
function scanOnWorkers(
  jobs: LayerJob[],
  filter: FileFilter,
  filterModule: FilterModuleSpec,
  count: number,
  onBytes: (n: number) => void,
  hashLane: HashLane | undefined,
  signal: AbortSignal | undefined,
  applyInOrder: (scan: LayerScan) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const pool: Worker[] = [];
    /** Stops the main thread's own scan when the walk settles early. */
    const mainLane = new AbortController();
    const results = new Map<number, LayerScan>();
    const failures = new Map<number, Error>();
    /** Lowest layer known to have failed; no layer above it is started. */
    let lowestFailure = Number.POSITIVE_INFINITY;
    // Biggest first, the main thread taking the first: it starts at once while a worker boots, so
    // the longest scan begins earliest and the short ones fill in around it (layers of 668 and 348
    // MB: the walk ends when the big one does, instead of a worker's start-up later).
    const queue = jobOrder(jobs);
    const takeNext = (): number | undefined => {
      // Nothing above a failed layer is started: its scan could never be applied.
      const at = queue.findIndex((id) => id < lowestFailure);
      return at < 0 ? undefined : queue.splice(at, 1)[0];
    };
    let nextApply = 0;
    let finished = false;

    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      for (const worker of pool) void worker.terminate();
      mainLane.abort(new Error('walk settled'));
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const dispatch = (worker: Worker) => {
      const id = takeNext();
      if (id === undefined) return;
      worker.postMessage({
        type: 'scan',
        id,
        job: jobs[id] as LayerJob,
        filterModule,
      } satisfies WorkerRequest);
    };

    const advance = () => {
      while (results.has(nextApply)) {
        const scan = results.get(nextApply) as LayerScan;
        results.delete(nextApply);
        nextApply++;
        applyInOrder(scan);
      }
      const failure = failures.get(nextApply);
      if (failure) finish(failure);
      else if (nextApply === jobs.length) finish();
    };

    const settle = (id: number, outcome: { scan: LayerScan } | { error: Error }) => {
      if ('scan' in outcome) results.set(id, outcome.scan);
      else {
        failures.set(id, outcome.error);
        lowestFailure = Math.min(lowestFailure, id);
      }
      advance();
    };

    // The main thread is one of the `count` lanes: it would otherwise only wait, and each worker it
    // replaces is an isolate with the catalogers loaded (tens of MiB).
    const scanHere = () => {
      if (finished) return;
      const id = takeNext();
      if (id === undefined) return;
      const lane = signal ? AbortSignal.any([signal, mainLane.signal]) : mainLane.signal;
      scanLayer(jobs[id] as LayerJob, filter, { onBytes, signal: lane, ...(hashLane ? { hashLane } : {}) })
        .then(
          (scan) => ({ scan }),
          (error: Error) => ({ error }),
        )
        .then((outcome) => {
          if (finished) return;
          try {
            settle(id, outcome);
          } catch (e) {
            finish(e);
            return;
          }
          scanHere();
        });
    };

    scanHere();
    for (let i = 1; i < count; i++) {
      // A small young generation: a worker's garbage is short-lived chunks and headers, and the
      // default (tens of MiB per isolate) is resident memory each worker adds for nothing.
      const worker = new Worker(siblingModule(import.meta.url, 'layer-worker'), {
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      });
      pool.push(worker);
      worker.on('message', (reply: WorkerReply) => {
        if (finished) return;
        try {
          if (reply.type === 'progress') {
            onBytes(reply.bytes);
            return;
          }
          settle(
            reply.id,
            reply.type === 'error' ? { error: rebuildError(reply.error) } : { scan: unpackScan(reply.scan) },
          );
        } catch (e) {
          finish(e);
          return;
        }
        if (!finished) dispatch(worker);
      });
      worker.on('error', (e) => finish(e));
      worker.on('exit', (code) => {
        if (!finished) finish(new Error(`layer worker exited with code ${code}`));
      });
      dispatch(worker);
    }
  });
}

/**
 * Layer indexes, most work first (compressed bytes; an uncompressed layer, hashed and parsed but not
 * inflated, counts a quarter), ties in layer order.
 */
export function jobOrder(jobs: readonly LayerJob[]): number[] {
  const work = jobs.map(layerWork);
  return jobs.map((_, i) => i).sort((a, b) => (work[b] as number) - (work[a] as number) || a - b);
}

/** A layer's scan cost in compressed bytes: an uncompressed one is hashed and parsed, not inflated. */
function layerWork(job: LayerJob): number {
  return sameBytes(job) ? job.location.size / 4 : job.location.size;
}

function rebuildError(error: { code?: string; input?: string; reason?: string; message: string }): Error {
  if (error.code && error.reason !== undefined) {
    return new WaybillError(error.code as ErrorCode, error.input ?? '', error.reason);
  }
  return new Error(error.message);
}
