import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { expectError } from '../../../test/helpers/assertions.ts';
import { makeSshSigner, makeTmp, removeTmp, type SshSigner } from '../../../test/helpers/git-fixtures.ts';
import { indexTarFile } from '../../archive/tar-reader.ts';
import { tarBuffer } from '../../archive/tar-writer.ts';
import { checkStatement } from '../../record/intoto.ts';
import { type BuildSuccess, buildRelease } from '../build/build.ts';
import { SNAPSHOT_ONLY_ENV } from '../build/scratch.ts';
import { buildOptions, buildSection, makeProject, TARBALL_COMMANDS } from '../build/testing.ts';
import { type RebuildOptions, rebuildRelease } from './rebuild.ts';
import { REBUILD_PREDICATE_TYPE } from './verdict.ts';

let tmp: string;
let signer: SshSigner;
let home: string;
let tmpDir: string;
let n = 0;

before(async () => {
  tmp = await makeTmp('waybill-rebuild-test-');
  signer = await makeSshSigner(tmp);
  home = join(tmp, 'home');
  tmpDir = join(tmp, 'tmpdir');
  await mkdir(home, { recursive: true });
  await mkdir(tmpDir, { recursive: true });
});
after(() => removeTmp(tmp));

/** Builds a project with `commands` (tarball outputs) and returns the successful build. */
async function built(
  commands: string[],
  files: Record<string, string> = {},
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<BuildSuccess> {
  n++;
  const p = await makeProject(
    tmp,
    `r${n}`,
    buildSection({ commands, outputs: ['dist/hello.tar.gz'], tools: ['tar'] }),
    signer,
    files,
  );
  const o = await buildOptions(tmp, p, signer, join(tmp, `out${n}`));
  const result = await buildRelease({ ...o, env: { ...o.env, ...extraEnv } });
  assert.ok(result.ok, JSON.stringify(result));
  return result;
}

function rebuild(input: string, extra: Partial<RebuildOptions> = {}) {
  return rebuildRelease({
    input,
    trustRecipe: true,
    env: { PATH: process.env.PATH, HOME: home, ...extra.env },
    tmpDir,
    ...extra,
  });
}

test('a deterministic build is reproduced bit for bit, from the kit or from the artifact', async () => {
  const b = await built(TARBALL_COMMANDS);
  const fromKit = await rebuild(b.kit.path);
  assert.equal(fromKit.reproduced, true, JSON.stringify(fromKit, null, 1));
  assert.equal(fromKit.reason, 'every output reproduced bit for bit (1)');
  assert.equal(fromKit.verdict.path, b.kit.path.replace(/\.rebuild\.tar$/, '.rebuild.json'));
  const statement = JSON.parse(await readFile(fromKit.verdict.path, 'utf8'));
  assert.equal(checkStatement(statement), undefined);
  assert.equal(statement.predicateType, REBUILD_PREDICATE_TYPE);
  assert.deepEqual(statement.subject, [
    { name: 'hello.tar.gz', digest: { sha256: b.outputs[0]?.publishedSha256 } },
  ]);
  assert.equal(statement.predicate.reproduced, true);
  assert.equal(statement.predicate.kit.digest.sha256, b.kit.sha256);
  assert.ok(statement.predicate.tools.every((t: { same: boolean }) => t.same));

  const fromArtifact = await rebuild(b.outputs[0]?.path as string);
  assert.equal(fromArtifact.reproduced, true);
  assert.equal(fromArtifact.verdict.path, `${b.outputs[0]?.path}.rebuild.json`);
});

test('a non-deterministic recipe is not reproduced, and the differing entry is named', async () => {
  const b = await built(['mkdir -p src', 'od -An -N8 -tx8 /dev/urandom > src/stamp', ...TARBALL_COMMANDS]);
  const out = join(tmp, 'kept');
  const r = await rebuild(b.outputs[0]?.path as string, { outDir: out, diffoscope: true });
  assert.equal(r.reproduced, false);
  assert.equal(r.reason, 'not reproduced: hello.tar.gz');
  const [o] = r.outputs;
  assert.equal(o?.built.expected, b.outputs[0]?.builtSha256);
  assert.notEqual(o?.built.actual, o?.built.expected);
  assert.deepEqual(
    o?.differences.map((d) => `${d.aspect} ${d.path}`),
    ['content hello.tar.gz!/src/stamp'],
  );
  // Everything asked for is kept in --out: the rebuilt output, the log and the negative verdict.
  assert.ok(existsSync(join(out, 'hello.tar.gz')));
  assert.ok(existsSync(join(out, 'hello-1.2.3.rebuild.log')));
  const statement = JSON.parse(await readFile(join(out, 'hello.tar.gz.rebuild.json'), 'utf8'));
  assert.equal(statement.predicate.reproduced, false);
  assert.equal(statement.predicate.outputs[0].differences[0].path, 'hello.tar.gz!/src/stamp');
  if (o?.diffoscope) assert.match(await readFile(o.diffoscope, 'utf8'), /src\/stamp/);
});

test('an artifact changed after publication: the source rebuilds the kit’s output, not this one', async () => {
  const b = await built(TARBALL_COMMANDS);
  const artifact = b.outputs[0]?.path as string;
  await writeFile(
    artifact,
    gzipSync(await tarBuffer([{ path: 'src/hello.sh', data: '#!/bin/sh\nrm -rf ~\n' }])),
  );
  const r = await rebuild(artifact);
  assert.equal(r.reproduced, false);
  assert.match(r.outputs[0]?.note ?? '', /the artifact is not the one the kit records/);
  assert.match(r.outputs[0]?.note ?? '', /the artifact was changed after publication/);
  assert.ok(r.outputs[0]?.differences.some((d) => d.path === 'hello.tar.gz!/src/hello.sh'));
});

/**
 * The "did the recipe run?" markers below lie outside the build directory (in this test's temp
 * directory). Isolation would keep them from ever appearing there (and report them), so these tests
 * use the snapshot check, which does not watch that directory; the refusals they test come before
 * the recipe runs either way.
 */
const MARKER_ENV = { [SNAPSHOT_ONLY_ENV]: '1' };

test('a kit whose source archive does not match its record is refused before anything runs', async () => {
  const marker = join(tmp, 'recipe-ran');
  const b = await built([`touch ${marker}`, ...TARBALL_COMMANDS], {}, MARKER_ENV);
  await rm(marker);
  const source = (await indexTarFile(b.kit.path)).get('source.tar');
  assert.ok(source);
  const handle = await open(b.kit.path, 'r+');
  try {
    // The first entry's content (.gitignore): same size, one byte changed.
    const at = source.offset + 512;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    await handle.write(Buffer.from([byte[0]! ^ 0x20]), 0, 1, at);
  } finally {
    await handle.close();
  }
  await expectError(
    rebuild(b.kit.path),
    'DIGEST_MISMATCH',
    /source archive digest is sha256:[0-9a-f]{64} but the kit records sha256:[0-9a-f]{64}/,
  );
  assert.equal(existsSync(marker), false);
  assert.equal(
    existsSync(b.kit.path.replace(/\.rebuild\.tar$/, '.rebuild.json')),
    false,
    'no verdict for a broken kit',
  );
});

test('the recipe runs only when trusted; the user is shown it first', async () => {
  const marker = join(tmp, 'untrusted-ran');
  const b = await built([`touch ${marker}`, ...TARBALL_COMMANDS], {}, MARKER_ENV);
  await rm(marker);
  let shown: string[] = [];
  await expectError(
    rebuild(b.kit.path, {
      trustRecipe: false,
      approveRecipe: async (m) => {
        shown = m.recipe.commands;
        return false;
      },
    }),
    'USAGE',
    /pass --trust-recipe/,
  );
  assert.equal(shown[0], `touch ${marker}`);
  assert.equal(existsSync(marker), false);
  const approved = await rebuild(b.kit.path, {
    trustRecipe: false,
    approveRecipe: async () => true,
    env: { PATH: process.env.PATH, HOME: home, ...MARKER_ENV },
  });
  assert.equal(approved.reproduced, true);
});

test('--out cannot be the directory of the published artifacts', async () => {
  const b = await built(TARBALL_COMMANDS);
  const before = await readFile(b.outputs[0]?.path as string);
  await expectError(
    rebuild(b.kit.path, { outDir: join(b.kit.path, '..') }),
    'USAGE',
    /holds the published artifacts/,
  );
  assert.deepEqual(await readFile(b.outputs[0]?.path as string), before);
});

test('an artifact with no kit beside it is bad input', async () => {
  const lonely = join(tmp, 'lonely');
  await mkdir(lonely);
  await writeFile(join(lonely, 'x.tar.gz'), 'x');
  await expectError(
    rebuild(join(lonely, 'x.tar.gz')),
    'NOT_FOUND',
    /no rebuild kit next to it lists this artifact \(no \*\.rebuild\.tar file in /,
  );
});
