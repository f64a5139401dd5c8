import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildVagrantBox } from '../../../test/fixtures/build-artifacts.ts';
import { makeTmp, removeTmp } from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import { readFileHead } from '../../util/read-head.ts';
import {
  compareBoxVersions,
  parseCatalog,
  stampVagrantCatalog,
  vagrantBoxFormat,
  vagrantCatalogFormat,
} from './vagrant.ts';

test('box file: architecture from metadata.json, no identity fields', async (t) => {
  const box = await buildVagrantBox();
  if (!box) return t.skip('tar not available');
  assert.ok(vagrantBoxFormat.detect(await readFileHead(box, 4096), box));
  assert.ok(await vagrantBoxFormat.confirm(box));
  const facts = await vagrantBoxFormat.readFacts(box);
  assert.equal(facts.format, 'vagrant');
  assert.equal(facts.hasIdentityFields, false);
  assert.deepEqual(facts.architectures, [
    { value: 'amd64', field: 'vagrant box metadata.json architecture' },
  ]);
  assert.equal(vagrantBoxFormat.stamp, undefined);
});

test('a box cut short is a broken box (MALFORMED), not a plain file', async (t) => {
  // Found by fuzzing: a .box cut inside its first gzip block, or after its first entries, passed for
  // a plain file (inspect exit 0, no facts) while sbom refused it.
  const box = await buildVagrantBox();
  if (!box) return t.skip('tar not available');
  const whole = await readFile(box);
  const dir = await makeTmp();
  t.after(() => removeTmp(dir));
  for (const length of [30, whole.length >> 1]) {
    const cut = join(dir, `cut-${length}.box`);
    await writeFile(cut, whole.subarray(0, length));
    if (!vagrantBoxFormat.detect(await readFileHead(cut, 4096), cut))
      assert.fail(`not detected at ${length}`);
    await assert.rejects(vagrantBoxFormat.confirm(cut), (e: unknown) => {
      assert.ok(e instanceof WaybillError && e.code === 'MALFORMED', String(e));
      return true;
    });
  }
});

test('catalog: read, stamp with a box (sha256 checksum), read back; unknown keys kept', async (t) => {
  const box = await buildVagrantBox();
  if (!box) return t.skip('tar not available');
  const dir = await makeTmp();
  try {
    const path = join(dir, 'catalog.json');
    const original = {
      name: 'acme/base',
      description: 'Acme base box',
      versions: [
        {
          version: '1.9.0',
          providers: [
            { name: 'libvirt', url: 'https://x/1.9.0.box', checksum_type: 'sha256', checksum: 'aa' },
          ],
        },
        {
          version: '1.10.0',
          providers: [{ name: 'virtualbox', url: 'https://x/1.10.0.box', architecture: 'arm64' }],
        },
      ],
      custom: { keep: true },
    };
    await writeFile(path, JSON.stringify(original));
    assert.ok(vagrantCatalogFormat.detect(await readFileHead(path, 4096), path));
    const facts = await vagrantCatalogFormat.readFacts(path);
    assert.equal(facts.name?.value, 'acme/base');
    assert.equal(facts.version?.value, '1.10.0', 'newest by version order, not file order');
    assert.deepEqual(
      facts.architectures.map((a) => a.value),
      ['arm64'],
    );

    const result = await stampVagrantCatalog(
      path,
      {
        version: '2.0.0',
        team: 'Platform Team',
        bugTracker: 'https://acme.example/bugs',
        docs: 'https://acme.example/docs',
      },
      { path: box, url: 'https://x/2.0.0.box' },
    );
    assert.equal(result.changed, true);
    const stamped = parseCatalog(await readFile(path), path);
    const v2 = stamped.versions.find((v) => v.version === '2.0.0');
    const sha = createHash('sha256')
      .update(await readFile(box))
      .digest('hex');
    assert.deepEqual(v2?.providers, [
      {
        architecture: 'amd64',
        checksum: sha,
        checksum_type: 'sha256',
        default_architecture: true,
        name: 'libvirt',
        url: 'https://x/2.0.0.box',
      },
    ]);
    assert.deepEqual(stamped.custom, { keep: true });
    assert.equal(stamped.description, 'Acme base box', 'description left for users');
    const back = await vagrantCatalogFormat.readFacts(path);
    assert.equal(back.version?.value, '2.0.0');
    assert.equal(back.team?.value, 'Platform Team');
    assert.equal(back.bugTracker?.value, 'https://acme.example/bugs');
    assert.equal(back.docs?.value, 'https://acme.example/docs');
    // Deterministic: stamping again with the same facts gives the same bytes.
    const once = await readFile(path);
    await stampVagrantCatalog(
      path,
      { version: '2.0.0', team: 'Platform Team' },
      { path: box, url: 'https://x/2.0.0.box' },
    );
    assert.deepEqual(await readFile(path), once);
  } finally {
    await removeTmp(dir);
  }
});

test('version order and malformed catalogs', () => {
  assert.ok(compareBoxVersions('1.10.0', '1.9.0') > 0);
  assert.ok(compareBoxVersions('1.0.0', '1.0.0.beta') > 0);
  assert.equal(compareBoxVersions('2', '2.0'), 0);
  for (const bad of [
    '[]',
    '{"name":"x"}',
    '{"name":"x","versions":[{}]}',
    '{"name":"x","versions":[{"version":"1","providers":[1]}]}',
    'nope',
  ]) {
    assert.throws(
      () => parseCatalog(Buffer.from(bad), 'c.json'),
      (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
      bad,
    );
  }
  fc.assert(
    fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
      try {
        parseCatalog(Buffer.from(text), 'fuzz.json');
      } catch (e) {
        assert.ok(e instanceof WaybillError, String(e));
      }
    }),
  );
});
