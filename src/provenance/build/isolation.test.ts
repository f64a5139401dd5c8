import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isolatedWrites, namespaceRuntime, planIsolation } from './isolation.ts';
import { runRecipe } from './run-recipe.ts';
import { survivorsOf } from './testing.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-isolation-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const runtime = await namespaceRuntime(tmpdir());
const skip = runtime
  ? false
  : 'no private mount namespace on this machine (the snapshot fallback is tested in scratch.test.ts)';

/** A build root, a shared place holding it (like /tmp), a visible checkout and a PATH entry inside it. */
async function layout(name: string) {
  const shared = join(dir, name);
  const root = join(shared, 'waybill-build-x');
  const checkout = join(shared, 'checkout');
  const bin = join(shared, 'tools', 'bin');
  const home = join(dir, `${name}-home`);
  for (const d of [join(root, 'src'), checkout, bin, home]) await mkdir(d, { recursive: true });
  await chmod(shared, 0o1777);
  await writeFile(join(bin, 'hello'), '#!/bin/sh\necho hello from a tool\n', { mode: 0o755 });
  await writeFile(join(shared, 'neighbour-before'), 'x');
  const plan = await planIsolation({ root, shared: [shared, home], visible: [checkout], readOnly: [bin] });
  return { shared, root, checkout, bin, home, plan };
}

async function run(commands: string[], l: Awaited<ReturnType<typeof layout>>, timeoutMs = 10_000) {
  assert.ok(runtime);
  return runRecipe({
    commands,
    cwd: join(l.root, 'src'),
    env: { PATH: `${l.bin}:/usr/bin:/bin`, HOME: l.home, SHARED: l.shared, CHECKOUT: l.checkout },
    timeoutMs,
    launch: runtime.prefix(l.plan.ops, join(l.root, 'src')),
  });
}

test('writes into isolated places are reported by the path the recipe saw, and never reach them', {
  skip,
}, async () => {
  const l = await layout('writes');
  const result = await run(
    [
      'test "$(stat -c %a "$SHARED")" = 1777',
      'echo x > "$SHARED/planted"',
      // Relative to the working directory too: it is entered again inside the new view.
      'echo x > ../../relative',
      'mkdir -p "$HOME/.cache/tool" && echo y > "$HOME/.cache/tool/z"',
      'echo ok > built',
      'test ! -e "$SHARED/neighbour-before"',
      'hello > from-tool',
      'echo in-checkout > "$CHECKOUT/visible"',
      '! touch "$PWD/../../tools/bin/written" 2>/dev/null',
      // Unprivileged, a user namespace is used; the recipe still runs as the invoking user.
      `test "$(id -u):$(id -g)" = ${process.getuid?.()}:${process.getgid?.()}`,
    ],
    l,
  );
  assert.equal(result.failure, undefined, result.log.toString());
  assert.deepEqual(await isolatedWrites(l.plan), [
    join(l.home, '.cache'),
    join(l.shared, 'planted'),
    join(l.shared, 'relative'),
  ]);
  assert.equal(existsSync(join(l.shared, 'planted')), false, 'the write reached the real place');
  assert.equal(existsSync(join(l.shared, 'relative')), false, 'the write reached the real place');
  assert.equal(existsSync(join(l.home, '.cache')), false, 'the write reached the real home');
  assert.equal(await readFile(join(l.root, 'src', 'built'), 'utf8'), 'ok\n');
  assert.equal(await readFile(join(l.root, 'src', 'from-tool'), 'utf8'), 'hello from a tool\n');
  // The checkout stays visible and writable at its path (the snapshot watch judges it).
  assert.equal(await readFile(join(l.checkout, 'visible'), 'utf8'), 'in-checkout\n');
  assert.equal(existsSync(join(l.bin, 'written')), false, 'a PATH directory was writable');
});

test('entries another process makes in the real place are neither seen nor reported', { skip }, async () => {
  const l = await layout('busy');
  const neighbour = join(l.shared, `neighbour-${randomBytes(4).toString('hex')}`);
  const pending = run(['sleep 1', `test ! -e "$SHARED/${neighbour.split('/').pop()}"`], l);
  await new Promise((r) => setTimeout(r, 300));
  await writeFile(neighbour, 'not the recipe');
  const result = await pending;
  assert.equal(result.failure, undefined, result.log.toString());
  assert.deepEqual(await isolatedWrites(l.plan), []);
});

test('a fresh directory replaced through the build root reports the place itself', { skip }, async () => {
  const l = await layout('swap');
  const [place] = l.plan.places;
  assert.ok(place);
  const result = await run(
    [`echo x > "$SHARED/hidden" && mv "${place.fresh}" "${place.fresh}.moved" && mkdir "${place.fresh}"`],
    l,
  );
  assert.equal(result.failure, undefined, result.log.toString());
  assert.deepEqual(await isolatedWrites(l.plan), [l.shared]);
});

test('the timeout kills the whole group through the unshare and mount layers', { skip }, async () => {
  const l = await layout('timeout');
  const marker = `3000.${randomBytes(4).readUInt32BE(0)}`;
  const started = Date.now();
  const result = await run([`sleep ${marker} & sleep ${marker}`], l, 500);
  assert.equal(result.failure?.kind, 'timeout');
  assert.ok(Date.now() - started < 8000);
  assert.deepEqual(await survivorsOf(marker), []);
});

test('a shared place inside a visible one is not isolated (it stays under the snapshot watch)', async () => {
  const shared = join(dir, 'nested', 'checkout', 'tmp');
  const root = join(dir, 'nested', 'root');
  await mkdir(shared, { recursive: true });
  await mkdir(root, { recursive: true });
  const plan = await planIsolation({
    root,
    shared: [shared, '/'],
    visible: [join(dir, 'nested', 'checkout')],
    readOnly: [],
  });
  assert.deepEqual(plan.places, []);
  assert.deepEqual(plan.notIsolated, [shared]);
});
