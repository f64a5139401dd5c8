import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { expectError } from '../../../test/helpers/assertions.ts';
import {
  commitFiles,
  type GpgSigner,
  git,
  makeGpgSigner,
  makeSshSigner,
  makeTmp,
  removeTmp,
  type SshSigner,
  tamperTagMessage,
} from '../../../test/helpers/git-fixtures.ts';
import { checkStatement } from '../../record/intoto.ts';
import { sha256Hex } from '../../util/digest.ts';
import { type BuildOptions, buildRelease } from './build.ts';
import { openKit } from './kit.ts';
import { SNAPSHOT_ONLY_ENV } from './scratch.ts';
import { checkSlsaProvenance } from './slsa.ts';
import {
  buildOptions,
  buildSection,
  isolationSkip,
  makeProject,
  type Project,
  survivorsOf,
  TARBALL_COMMANDS,
} from './testing.ts';

let tmp: string;
let ssh: SshSigner;
let gpg: GpgSigner;
let other: SshSigner;
let count = 0;

before(async () => {
  tmp = await makeTmp('waybill-build-test-');
  ssh = await makeSshSigner(tmp);
  other = await makeSshSigner(tmp, 'someone@else.invalid', 'other-signer');
  gpg = await makeGpgSigner(tmp);
});
after(() => removeTmp(tmp));

/** Isolation needs a private mount namespace; machines without one use (and test) the snapshot fallback. */
const noNamespace = await isolationSkip();

const TARBALL = buildSection({
  commands: TARBALL_COMMANDS,
  outputs: ['dist/hello.tar.gz'],
  tools: ['tar', 'gzip'],
});

/** `signer` null: an annotated tag without a signature. */
async function project(
  section = TARBALL,
  files: Record<string, string> = {},
  signer: SshSigner | GpgSigner | null = ssh,
): Promise<Project> {
  return makeProject(tmp, `p${++count}`, section, signer ?? undefined, files);
}

async function options(
  p: Project,
  signer: SshSigner | GpgSigner = ssh,
  extra: Partial<BuildOptions> = {},
): Promise<BuildOptions> {
  return { ...(await buildOptions(tmp, p, signer, join(tmp, `out${count}`))), ...extra };
}

test('a build from an SSH-signed tag publishes stamped outputs, valid SLSA provenance and a kit', async () => {
  const p = await project();
  const o = await options(p);
  const result = await buildRelease(o);
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.version, '1.2.3');
  assert.equal(result.source.tag, 'v1.2.3');
  const [out] = result.outputs;
  assert.ok(out);
  assert.equal(out.publishedSha256, sha256Hex(await readFile(out.path)));
  assert.deepEqual((await readdir(o.outDir)).sort(), [
    'hello-1.2.3.build.log',
    'hello-1.2.3.rebuild.tar',
    'hello.tar.gz',
    'hello.tar.gz.cdx.json',
    'hello.tar.gz.provenance.json',
    'hello.tar.gz.waybill.json',
  ]);
  const provenance = JSON.parse(await readFile(out.provenance.path, 'utf8'));
  assert.equal(checkStatement(provenance), undefined);
  assert.equal(checkSlsaProvenance(provenance), undefined);
  assert.deepEqual(provenance.subject, [{ name: 'hello.tar.gz', digest: { sha256: out.publishedSha256 } }]);
  const deps = provenance.predicate.buildDefinition.resolvedDependencies;
  assert.equal(deps[0].digest.gitCommit, result.source.commit);
  assert.equal(deps[1].digest.sha256, result.sourceArchive.sha256);
  assert.deepEqual(
    deps.slice(2).map((d: { name: string }) => d.name),
    ['tar', 'gzip'],
  );
  assert.equal(deps[2].digest.sha256.length, 64);
  assert.equal(
    provenance.predicate.buildDefinition.internalParameters.environment.SOURCE_DATE_EPOCH,
    '1704164645',
  );
  assert.equal(provenance.predicate.runDetails.byproducts[1].digest.sha256, result.kit.sha256);
  const kit = await openKit(result.kit.path);
  assert.equal(kit.manifest.outputs[0]?.published, out.publishedSha256);
  assert.equal(kit.manifest.sourceArchive.sha256, result.sourceArchive.sha256);
  const record = JSON.parse(await readFile(out.record, 'utf8'));
  assert.equal(record.predicate.source.signature.verified, true);
  assert.equal(record.predicate.dates.built, '2024-01-02T03:04:05Z');
});

test('a build from a GPG-signed tag, and the same tree builds to the same bytes', async () => {
  const p = await project(TARBALL, {}, gpg);
  const first = await buildRelease(await options(p, gpg));
  const second = await buildRelease(await options(p, gpg, { outDir: join(tmp, 'again') }));
  assert.ok(first.ok && second.ok, JSON.stringify([first, second]));
  assert.match(first.source.signature.reason, /good OpenPGP signature by trusted key/);
  assert.equal(first.outputs[0]?.publishedSha256, second.outputs[0]?.publishedSha256);
  assert.equal(first.sourceArchive.sha256, second.sourceArchive.sha256);
  assert.equal(first.kit.sha256, second.kit.sha256, 'the kit is deterministic');
});

test('each bad tag is refused with its reason and nothing is built', async () => {
  const untrusted = await project(TARBALL, {}, other);
  const unsigned = await project(TARBALL, {}, null);
  const moved = await project();
  await commitFiles(moved.repo, { 'later.txt': 'after the tag\n' });
  const forged = await project();
  await tamperTagMessage(forged.repo, 'v1.2.3');
  const cases: Array<[Project, Partial<BuildOptions>, RegExp]> = [
    [untrusted, {}, /not in the allowed signers file/],
    [unsigned, {}, /tag is not signed/],
    [moved, { tag: 'v1.2.3' }, /points at commit .* but HEAD is .*moved tag or wrong checkout/],
    [moved, {}, /HEAD .* is not at a tag/],
    [forged, {}, /bad SSH signature/],
  ];
  for (const [p, extra, reason] of cases) {
    const o = await options(p, ssh, extra);
    const result = await buildRelease(o);
    assert.equal(result.ok, false, `${reason}: ${JSON.stringify(result).slice(0, 300)}`);
    assert.ok(!result.ok && result.stage === 'tag', JSON.stringify(result));
    assert.match(result.reason, reason);
    assert.match(result.reason, /^tag not verified: /);
    assert.equal(existsSync(o.outDir), false, 'nothing may be written for a refused tag');
  }
});

test('the recipe must be the one committed at the tag', async () => {
  const p = await project(TARBALL, { '.gitignore': 'dist/\nlocal.yaml\n' });
  const local = join(p.repo, 'local.yaml');
  await (await import('node:fs/promises')).writeFile(local, await readFile(p.config));
  await expectError(
    buildRelease(await options(p, ssh, { configFile: local })),
    'CONFIG',
    /is not committed at tag v1\.2\.3/,
  );
  await expectError(
    buildRelease(await options(p, ssh, { configFile: join(tmp, 'elsewhere.yaml') })),
    'CONFIG',
    /is outside the repository/,
  );
  await expectError(
    buildRelease(await options(p, ssh, { build: undefined })),
    'CONFIG',
    /has no build section/,
  );
});

test('a failing recipe is refused with its log kept', async () => {
  const p = await project(
    buildSection({ commands: ['echo compiling', 'echo broken >&2; exit 7'], outputs: ['x'] }),
  );
  const result = await buildRelease(await options(p));
  assert.ok(!result.ok && result.stage === 'recipe', JSON.stringify(result));
  assert.equal(result.reason, 'recipe failed: command 2 failed with exit status 7');
  assert.match(
    await readFile(result.log as string, 'utf8'),
    /compiling\n\$ echo broken >&2; exit 7\nbroken\n/,
  );
});

test('a hanging recipe is killed at its timeout with its whole process group', async () => {
  const marker = `3000.${randomBytes(4).readUInt32BE(0)}`;
  const p = await project(
    buildSection({ commands: [`sleep ${marker} & sleep ${marker}`], outputs: ['x'], timeout: '1s' }),
  );
  const started = Date.now();
  const result = await buildRelease(await options(p));
  assert.ok(!result.ok && result.stage === 'recipe', JSON.stringify(result));
  assert.match(result.reason, /still running at the 1s timeout; its process group was killed/);
  assert.ok(Date.now() - started < 15_000);
  assert.deepEqual(await survivorsOf(marker), []);
});

test('a recipe that writes outside its build directory is refused, naming what it wrote', async () => {
  const p = await project(
    buildSection({
      commands: [...TARBALL_COMMANDS, 'echo x > ../escaped', 'touch "$CHECKOUT/planted"'],
      outputs: ['dist/hello.tar.gz'],
      env: ['CHECKOUT'],
    }),
  );
  const o = await options(p);
  const result = await buildRelease({ ...o, env: { ...o.env, CHECKOUT: p.repo } });
  assert.ok(!result.ok && result.stage === 'outside-writes', JSON.stringify(result));
  assert.ok(
    result.outsideWrites?.some((w) => w.endsWith('/escaped')),
    JSON.stringify(result.outsideWrites),
  );
  assert.ok(result.outsideWrites?.includes(join(p.repo, 'planted')), JSON.stringify(result.outsideWrites));
  assert.match(result.reason, /recipe wrote outside its build directory: /);
  assert.equal(existsSync(join(o.outDir, 'hello.tar.gz')), false, 'nothing is published');
});

test('writes to /tmp and to the real home (by absolute path) are refused by name and never reach them', {
  skip: noNamespace,
}, async () => {
  const name = `waybill-planted-${randomBytes(6).toString('hex')}`;
  const p = await project(
    buildSection({
      commands: [...TARBALL_COMMANDS, `echo x > /tmp/${name}`, `echo y > "$REAL_HOME/${name}"`],
      outputs: ['dist/hello.tar.gz'],
      env: ['REAL_HOME'],
    }),
  );
  const o = await options(p);
  const home = o.env?.HOME as string;
  const result = await buildRelease({ ...o, env: { ...o.env, REAL_HOME: home } });
  assert.ok(!result.ok && result.stage === 'outside-writes', JSON.stringify(result));
  assert.equal(result.outsideWriteCheck, 'isolated');
  assert.deepEqual(result.outsideWrites, [join(home, name), `/tmp/${name}`].sort());
  assert.match(result.reason, new RegExp(`recipe wrote outside its build directory: .*/tmp/${name}`));
  assert.equal(existsSync(`/tmp/${name}`), false, 'the write reached the real /tmp');
  assert.equal(existsSync(join(home, name)), false, 'the write reached the real home');
});

/** Builds a recipe that sleeps while this process creates an entry in the build's temp directory. */
async function buildBesideBusyNeighbour(extraEnv: Record<string, string> = {}) {
  const p = await project(
    buildSection({ commands: [...TARBALL_COMMANDS, 'sleep 1'], outputs: ['dist/hello.tar.gz'] }),
  );
  const o = await options(p);
  const neighbour = join(o.tmpDir as string, `waybill-fs-safety-${randomBytes(4).toString('hex')}`);
  const pending = buildRelease({ ...o, env: { ...o.env, ...extraEnv } });
  await new Promise((r) => setTimeout(r, 600));
  await writeFile(neighbour, 'another process');
  return { result: await pending, neighbour };
}

test('another process creating an entry in the shared temp directory during the build is not the recipe’s', {
  skip: noNamespace,
}, async () => {
  const { result } = await buildBesideBusyNeighbour();
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.outsideWriteCheck, 'isolated');
  assert.match(await readFile(result.log, 'utf8'), /^\[waybill: outside writes checked by isolation/);
});

test('without a private mount namespace the snapshot fallback still refuses outside writes, and says so', async () => {
  const p = await project(
    buildSection({
      commands: [...TARBALL_COMMANDS, 'echo x > ../../escaped', 'echo y > "$REAL_HOME/planted"'],
      outputs: ['dist/hello.tar.gz'],
      env: ['REAL_HOME'],
    }),
  );
  const o = await options(p);
  const home = o.env?.HOME as string;
  const result = await buildRelease({
    ...o,
    env: { ...o.env, REAL_HOME: home, [SNAPSHOT_ONLY_ENV]: '1' },
  });
  assert.ok(!result.ok && result.stage === 'outside-writes', JSON.stringify(result));
  assert.equal(result.outsideWriteCheck, 'snapshot');
  assert.deepEqual(result.outsideWrites, [join(o.tmpDir as string, 'escaped'), join(home, 'planted')].sort());
  assert.match(
    await readFile(result.log as string, 'utf8'),
    /^\[waybill: outside writes checked by a snapshot of shared places/,
  );
  // The fallback's known limit: a neighbour's new file in the shared temp directory counts.
  const busy = await buildBesideBusyNeighbour({ [SNAPSHOT_ONLY_ENV]: '1' });
  assert.ok(
    !busy.result.ok && busy.result.outsideWrites?.includes(busy.neighbour),
    JSON.stringify(busy.result),
  );
});

test('outputs that are missing fail the build', async () => {
  const p = await project(buildSection({ commands: ['true'], outputs: ['dist/*.deb'] }));
  const result = await buildRelease(await options(p));
  assert.ok(!result.ok && result.stage === 'outputs', JSON.stringify(result));
  assert.match(result.reason, /dist\/\*\.deb: the recipe produced nothing matching/);
});

test('a hostile repository (clean and smudge filters, export-subst, fsmonitor) runs nothing but the recipe', async () => {
  const marker = join(tmp, 'hostile-ran');
  const p = await project(TARBALL, {
    '.gitattributes': '* filter=evil\nsrc/version export-subst\n',
    'src/version': '$Format:%H$\n',
  });
  await git(p.repo, ['config', 'filter.evil.smudge', `touch ${marker}; cat`]);
  await git(p.repo, ['config', 'filter.evil.clean', `touch ${marker}; cat`]);
  await git(p.repo, ['config', 'core.fsmonitor', `touch ${marker}; true`]);
  const result = await buildRelease(await options(p));
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(existsSync(marker), false, 'a program named by the repository ran');
});
