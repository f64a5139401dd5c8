import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  discardPrestartedTreeHelpers,
  prestartTreeHelpers,
  takePrestarted,
  treeHelpers,
} from './tree-helpers.ts';

const spec = { filterModule: { url: 'file:///nowhere.mjs', export: 'f' } };

test('treeHelpers: none without a filter module or for 0/1 threads; else one fewer than asked, up to 3', () => {
  assert.equal(treeHelpers({}, { WAYBILL_WORKERS: '4' }), 0);
  assert.equal(treeHelpers({ ...spec, workers: 0 }), 0);
  assert.equal(treeHelpers({ ...spec, workers: 1 }), 0);
  assert.equal(treeHelpers(spec, { WAYBILL_WORKERS: '2' }), 1);
  assert.equal(treeHelpers(spec, { WAYBILL_WORKERS: '64' }), 3);
  assert.throws(() => treeHelpers(spec, { WAYBILL_WORKERS: 'x' }), /WAYBILL_WORKERS/);
});

/** Prestarts helpers for `threads` threads in all ($WAYBILL_WORKERS), each from `spawn`. */
function prestartWith(threads: string, spawn: () => Worker): void {
  const saved = process.env.WAYBILL_WORKERS;
  process.env.WAYBILL_WORKERS = threads;
  try {
    prestartTreeHelpers('file:///nowhere.mjs', spawn);
  } finally {
    if (saved === undefined) delete process.env.WAYBILL_WORKERS;
    else process.env.WAYBILL_WORKERS = saved;
  }
}

test('prestartTreeHelpers: a thread that cannot start is one helper fewer, never a throw', () => {
  let calls = 0;
  const spawn = (): Worker => {
    calls++;
    throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
  };
  prestartWith('3', spawn);
  assert.equal(calls, 1);
  assert.equal(takePrestarted(), undefined);
  discardPrestartedTreeHelpers();
});

test('prestartTreeHelpers: a helper that fails before it is taken does not end the process', async () => {
  const started: Worker[] = [];
  const spawn = (): Worker => {
    const worker = new Worker('throw new Error("helper failed to load")', { eval: true });
    started.push(worker);
    return worker;
  };
  prestartWith('2', spawn);
  assert.equal(started.length, 1);
  // Its 'error' comes before 'exit'; unhandled, it would fail this test as an uncaught exception.
  await new Promise((resolve) => (started[0] as Worker).once('exit', resolve));
  discardPrestartedTreeHelpers();
});
