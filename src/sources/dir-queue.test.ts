import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { DirQueue } from './dir-queue.ts';

/** A tree of directories as parent → children, built from a list of parent indexes. */
function treeOf(parents: number[]): Map<string, string[]> {
  const names = [''];
  const children = new Map<string, string[]>([['', []]]);
  parents.forEach((parent, i) => {
    const up = names[parent % names.length] as string;
    const path = up === '' ? `d${i}` : `${up}/d${i}-ü`;
    names.push(path);
    children.set(path, []);
    children.get(up)?.push(path);
  });
  return children;
}

test('DirQueue: any interleaving of threads lists every directory exactly once, then the walk ends', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(), { maxLength: 60 }),
      // Small stacks make `give` fail often: the giver then lists the directory itself.
      fc.integer({ min: 8, max: 400 }),
      fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 400 }),
      (parents, capacity, schedule) => {
        const children = treeOf(parents);
        const queue = DirQueue.create(capacity);
        assert.ok(queue.give(''));
        const listed: string[] = [];
        // Four threads, each holding a directory it took (or none) and what it must list itself.
        const threads = Array.from({ length: 4 }, () => ({
          held: undefined as string | undefined,
          own: [] as string[],
        }));
        const listOne = (thread: (typeof threads)[number], dir: string) => {
          listed.push(dir);
          for (const child of children.get(dir) ?? []) if (!queue.give(child)) thread.own.push(child);
        };
        let step = 0;
        while (queue.pending > 0) {
          const thread = threads[
            (schedule[step % schedule.length] as number) % 4
          ] as (typeof threads)[number];
          step++;
          assert.ok(step < 100_000, 'the walk ends');
          if (thread.held === undefined) {
            thread.held = queue.take(false);
            if (thread.held !== undefined) listOne(thread, thread.held);
            continue;
          }
          const next = thread.own.pop();
          if (next !== undefined) listOne(thread, next);
          else {
            thread.held = undefined;
            queue.finish();
          }
        }
        assert.equal(queue.take(), undefined, 'an empty walk with nothing pending is over');
        assert.deepEqual([...listed].sort(), [...children.keys()].sort());
      },
    ),
  );
});

test('DirQueue: stop ends every taker; join after close is refused', () => {
  const queue = DirQueue.create();
  assert.ok(queue.join(0));
  queue.give('a');
  queue.give('b');
  assert.equal(queue.take(), 'b');
  queue.stop();
  assert.equal(queue.take(), undefined);
  assert.equal(queue.close(), 1);
  assert.equal(queue.join(1), false);
});

test('DirQueue: progress counters add up across calls', () => {
  const queue = DirQueue.create();
  queue.addRead(5);
  queue.addRead(2 ** 40);
  queue.addListed(7);
  assert.deepEqual(queue.progress(), { read: 2 ** 40 + 5, listed: 7 });
});

/** The lock word (slot 0 of the control block), as a thread that holds the lock sees it. */
function lockWord(queue: DirQueue): Int32Array {
  return new Int32Array(queue.buffer, 0, 1);
}

test('DirQueue: a lock whose holder died (never released) throws after lockStallMs instead of hanging', () => {
  const queue = DirQueue.create(64);
  queue.lockStallMs = 100;
  Atomics.store(lockWord(queue), 0, 1); // held by a thread that is gone
  const started = Date.now();
  assert.throws(() => queue.give('a'), /lock was held for 100 ms: its holder stopped/);
  assert.ok(Date.now() - started >= 100);
  assert.throws(() => queue.take(false), /its holder stopped/);
});

test('DirQueue: a live holder on another thread that lets go in time is waited for', async () => {
  const queue = DirQueue.create(64);
  queue.lockStallMs = 2_000;
  const lock = lockWord(queue);
  // Another thread takes the lock, keeps it 300 ms (15 waits of WAIT_MS), then releases it the way
  // `unlock` does: waiters must not count those waits as a holder that is gone.
  const holder = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const lock = new Int32Array(workerData, 0, 1);
     Atomics.store(lock, 0, 1);
     parentPort.postMessage('held');
     const until = Date.now() + 300; while (Date.now() < until);
     if (Atomics.sub(lock, 0, 1) !== 1) { Atomics.store(lock, 0, 0); Atomics.notify(lock, 0, 1); }`,
    { eval: true, workerData: queue.buffer },
  );
  await once(holder, 'message');
  assert.equal(Atomics.load(lock, 0), 1);
  assert.ok(queue.give('a'));
  assert.equal(queue.take(false), 'a');
  await once(holder, 'exit');
});
