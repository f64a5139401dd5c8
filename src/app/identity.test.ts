/**
 * Which name and version a stamp records, on real artifacts: a dpkg-deb package, a setuptools wheel,
 * an OCI layout tagged with a full reference, a docker-archive written by skopeo (RepoTags), a gcc
 * ELF, a plain tarball. The artifact's own word wins over waybill.yaml; a flag that contradicts a
 * package is recorded with a warning (check will fail it); images and ELF notes, which the stamp
 * rewrites, take the flag.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildHello, buildPythonProject, WHEEL_PROJECT } from '../../test/fixtures/build-artifacts.ts';
import { buildPackages } from '../../test/fixtures/build-packages.ts';
import { makeTmp, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import type { Settings } from '../config/merge.ts';
import { openArtifact } from '../sources/open.ts';
import { buildOciLayout, buildTar } from '../sources/testing.ts';
import { resolveIdentity } from './identity.ts';
import { nativeFactsOf, nativeFormatOf } from './native-facts.ts';

const exec = promisify(execFile);
let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-identity-');
});
after(() => removeTmp(tmp));

type Given = Pick<Settings, 'name' | 'nameFrom' | 'version' | 'versionFrom'>;
const none: Given = { name: null, nameFrom: null, version: null };
const config = (name: string): Given => ({ name, nameFrom: 'config', version: null });
const flags = (name: string | null, version: string | null = null): Given => ({
  name,
  nameFrom: name === null ? null : 'flag',
  version,
});

async function resolve(ref: string, settings: Given) {
  const artifact = await openArtifact(ref);
  const writesIdentity =
    artifact.image !== undefined || (await nativeFormatOf(artifact))?.writesIdentity === true;
  return resolveIdentity({ settings, native: await nativeFactsOf(artifact), writesIdentity });
}

/** A flag contradicting a package is recorded as given, with a warning that check will fail it. */
async function contradicted(ref: string, given: Given, flag: string, value: string) {
  const id = await resolve(ref, given);
  assert.ok(id.name === value || id.version === value, 'the flag is recorded');
  assert.equal(id.warnings.length, 1);
  assert.equal(id.warnings[0]!.path, flag);
  assert.match(
    id.warnings[0]!.reason,
    /is recorded, but the artifact .* which stamp does not rewrite: check will fail identity/,
  );
}

test('deb: its Package and Version win over waybill.yaml (with a warning); a contradicting flag is recorded and warned about', async (t) => {
  const deb = (await buildPackages()).deb.gzip;
  if (!deb) return t.skip('dpkg-deb not available');
  const own = await resolve(deb, none);
  assert.deepEqual([own.name, own.version, own.warnings], ['waybill-demo', '1:1.2.3-1', []]);
  // The placeholder a config might carry does not contradict the package: it is not used.
  const placeholder = await resolve(deb, config('hello'));
  assert.equal(placeholder.name, 'waybill-demo');
  assert.equal(placeholder.warnings.length, 1);
  assert.match(
    placeholder.warnings[0]!.reason,
    /"hello" not used: the artifact names itself "waybill-demo" \(deb Package field\)/,
  );
  // The same name spelled differently is no conflict (deb names compare case-insensitively).
  assert.deepEqual((await resolve(deb, config('Waybill-Demo'))).warnings, []);
  await contradicted(deb, flags('hello'), '--name', 'hello');
  await contradicted(deb, flags(null, '1.2.3'), '--version', '1.2.3');
  assert.equal((await resolve(deb, flags('waybill-demo', '1:1.2.3-1'))).version, '1:1.2.3-1');
  // A guessed version (build's tag version) only fills in: the package's own wins, silently.
  const guessed = await resolve(deb, { ...none, version: '1.2.3', versionFrom: 'default' });
  assert.deepEqual([guessed.version, guessed.warnings], ['1:1.2.3-1', []]);
});

test('wheel: PEP 503 names compare normalized; the config cannot rename it', async (t) => {
  const built = await buildPythonProject();
  if (!built) return t.skip('python3 with setuptools/wheel not available');
  assert.equal((await resolve(built.wheel, config('Waybill_Demo'))).warnings.length, 0);
  const other = await resolve(built.wheel, config('hello'));
  assert.deepEqual([other.name, other.version], [WHEEL_PROJECT.name, WHEEL_PROJECT.version]);
  assert.equal(other.warnings.length, 1);
  await contradicted(built.wheel, flags('hello'), '--name', 'hello');
});

test('OCI layout: a full ref.name names the image; a bare tag does not; the flag wins (stamp writes the title)', async () => {
  const files = [{ 'etc/hostname': 'x\n' }];
  const full = join(tmp, 'full');
  await buildOciLayout(full, files, { tag: 'ghcr.io/acme/hello:1.2.3' });
  const fromRef = await resolve(`oci:${full}:ghcr.io/acme/hello:1.2.3`, config('placeholder'));
  assert.deepEqual([fromRef.name, fromRef.version], ['hello', '1.2.3']);
  assert.equal(fromRef.warnings.length, 1);
  const flagged = await resolve(`oci:${full}:ghcr.io/acme/hello:1.2.3`, flags('hello-server', '1.2.4'));
  assert.deepEqual([flagged.name, flagged.version, flagged.warnings], ['hello-server', '1.2.4', []]);

  const bare = join(tmp, 'bare');
  await buildOciLayout(bare, files, { tag: 'latest' });
  const fromConfig = await resolve(`oci:${bare}:latest`, config('hello'));
  assert.deepEqual([fromConfig.name, fromConfig.version, fromConfig.warnings], ['hello', null, []]);
  // A title annotation outranks the reference.
  const titled = join(tmp, 'titled');
  await buildOciLayout(titled, files, {
    tag: 'ghcr.io/acme/hello:latest',
    annotations: { 'org.opencontainers.image.title': 'hello-web', 'org.opencontainers.image.version': '3.0' },
  });
  const t2 = await resolve(`oci:${titled}:ghcr.io/acme/hello:latest`, none);
  assert.deepEqual([t2.name, t2.version], ['hello-web', '3.0']);
});

test('docker-archive written by skopeo: RepoTags name the image', async (t) => {
  const layout = join(tmp, 'for-archive');
  await buildOciLayout(layout, [{ 'etc/hostname': 'x\n' }], { tag: 'latest' });
  const archive = join(tmp, 'image.tar');
  try {
    await exec('skopeo', [
      'copy',
      '-q',
      `oci:${layout}:latest`,
      `docker-archive:${archive}:registry.example/team/hello-api:2.0.1`,
    ]);
  } catch (e) {
    return t.skip(`skopeo not usable: ${String((e as Error).message).split('\n')[0]}`);
  }
  const id = await resolve(`docker-archive:${archive}`, config('hello'));
  assert.deepEqual([id.name, id.version], ['hello-api', '2.0.1']);
  const facts = await nativeFactsOf(await openArtifact(`docker-archive:${archive}`));
  assert.equal(facts.name?.field, 'docker-archive RepoTags repository');
});

test('an ELF without a package note and a plain tarball take the name from the config', async (t) => {
  const tarball = join(tmp, 'app.tar');
  await writeFile(tarball, buildTar({ 'app/README': 'hi\n' }));
  assert.deepEqual((await resolve(tarball, config('hello'))).name, 'hello');
  assert.deepEqual((await resolve(tarball, none)).name, null);
  assert.equal(
    (await resolve(tarball, { ...none, version: '1.2.3', versionFrom: 'default' })).version,
    '1.2.3',
  );
  const hello = await buildHello();
  if (!hello) return t.skip('gcc not available');
  // No package note: nothing stated, the config fills in, the stamp will write the note.
  assert.deepEqual((await resolve(hello, config('hello'))).name, 'hello');
});
