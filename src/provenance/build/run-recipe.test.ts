import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { describeRecipeFailure, runRecipe } from './run-recipe.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-recipe-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const ENV = { PATH: '/usr/bin:/bin', HOME: '/nonexistent', LC_ALL: 'C', TZ: 'UTC' };

/** Processes whose command line contains `marker` (a unique sleep duration). */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) found.push(Number(pid));
  }
  return found;
}

function uniqueSleep(): string {
  // `sleep 3000.1234…`: a duration nobody else uses, so /proc finds exactly our processes.
  return `3000.${randomBytes(4).readUInt32BE(0)}`;
}

test('commands run in order with exactly the given environment and umask 022', async () => {
  const result = await runRecipe({
    commands: ['env | sort > env.txt', 'touch made', 'echo to-stdout; echo to-stderr >&2'],
    cwd: dir,
    env: ENV,
    timeoutMs: 10_000,
  });
  assert.equal(result.failure, undefined);
  const env = (await readFile(join(dir, 'env.txt'), 'utf8')).trim().split('\n');
  // sh adds PWD (and dash SHLVL? no); nothing from our own environment leaks in.
  assert.deepEqual(
    env.filter((l) => !l.startsWith('PWD=')),
    ['HOME=/nonexistent', 'LC_ALL=C', 'PATH=/usr/bin:/bin', 'TZ=UTC'],
  );
  assert.equal((await stat(join(dir, 'made'))).mode & 0o777, 0o644);
  const log = result.log.toString('utf8');
  assert.match(log, /^\$ env \| sort > env\.txt\n\$ touch made\n\$ echo to-stdout; echo to-stderr >&2\n/);
  assert.match(log, /to-stdout/);
  assert.match(log, /to-stderr/);
});

test('the first failing command stops the recipe and is named', async () => {
  const result = await runRecipe({
    commands: ['true', 'exit 3', 'touch never'],
    cwd: dir,
    env: ENV,
    timeoutMs: 10_000,
  });
  assert.deepEqual(result.failure, { kind: 'exit', index: 1, command: 'exit 3', code: 3 });
  assert.equal(describeRecipeFailure(result.failure!), 'command 2 failed with exit status 3');
  await assert.rejects(stat(join(dir, 'never')));
});

test('a hanging recipe is killed at the timeout with its whole process group; no orphan survives', async () => {
  const marker = uniqueSleep();
  const started = Date.now();
  const result = await runRecipe({
    // A background child, a child of a subshell and the foreground sleep: all in the group.
    commands: [`sleep ${marker} & (sleep ${marker} &) ; sleep ${marker}`],
    cwd: dir,
    env: ENV,
    timeoutMs: 500,
    killGraceMs: 500,
  });
  assert.equal(result.failure?.kind, 'timeout');
  assert.match(
    describeRecipeFailure(result.failure!),
    /still running at the 0\.5s timeout; its process group was killed/,
  );
  assert.ok(Date.now() - started < 5000, 'the recipe was not stopped promptly');
  // Give the kernel a moment to reap, then look for survivors.
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await processesWith(marker), []);
});

test('a recipe that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
  const marker = uniqueSleep();
  const result = await runRecipe({
    commands: [`trap '' TERM; sleep ${marker}`],
    cwd: dir,
    env: ENV,
    timeoutMs: 300,
    killGraceMs: 300,
  });
  assert.equal(result.failure?.kind, 'timeout');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await processesWith(marker), []);
});

test('processes a command leaves running are killed and reported', async () => {
  const marker = uniqueSleep();
  const result = await runRecipe({
    commands: [`sleep ${marker} > /dev/null 2>&1 &`, 'true'],
    cwd: dir,
    env: ENV,
    timeoutMs: 10_000,
  });
  assert.equal(result.failure, undefined);
  assert.deepEqual(result.leftovers, [0]);
  assert.match(result.log.toString(), /left processes running; they were killed/);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await processesWith(marker), []);
});

test('a process that leaves the group (setsid) cannot hold the build open through its output pipe', async (t) => {
  const marker = uniqueSleep();
  const started = Date.now();
  t.after(async () => {
    for (const pid of await processesWith(marker)) process.kill(pid, 'SIGKILL');
  });
  const result = await runRecipe({
    commands: [`setsid sleep ${marker} & sleep 0.5`, 'true'],
    cwd: dir,
    env: ENV,
    timeoutMs: 10_000,
  });
  assert.ok(Date.now() - started < 5000, 'runRecipe waited for the escaped process');
  assert.equal(result.failure, undefined);
  assert.deepEqual(result.leftovers, [0]);
  assert.match(result.log.toString(), /kept its output open/);
});
