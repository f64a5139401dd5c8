import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import type { InventoryComponent } from './inventory.ts';
import { packageQuery } from './package-query.ts';
import { parseDistroOption, releaseFromDebVersion } from './package-release.ts';

const deb = (purl: string, props: Record<string, string> = {}): InventoryComponent => ({
  ref: 'x',
  name: 'x',
  purl,
  properties: new Map(Object.entries(props).map(([k, v]) => [k, [v]])),
  locations: [],
  isSubject: true,
});

describe('the release of a package file', () => {
  test('Debian and Ubuntu version conventions that name a release, and those that do not', () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['debian', '2.38.1-5+deb12u3', 'debian 12'],
      ['debian', '1.9.3+ds1-1~deb11u1', 'debian 11'],
      ['debian', '3.0.11-1~deb12u2+b1', 'debian 12'],
      ['debian', '1.0-1+deb13', 'debian 13'],
      ['debian', '2.10-3', undefined],
      ['debian', '1.9.3+ds1-1+b10', undefined],
      ['debian', '12.0-1', undefined],
      ['debian', '1.0-1~bpo12+1', undefined], // backports: not the release's own archive
      ['debian', '1.0-1+deb12u1build0.24.04.1', undefined], // an Ubuntu rebuild of a Debian update
      ['debian', '1.0-1+deb12u1ubuntu1', undefined],
      ['ubuntu', '1.0-1+deb12u1', undefined],
      ['ubuntu', '1.2-3ubuntu0.22.04.1', 'ubuntu 22.04'],
      ['ubuntu', '1.2-3ubuntu0.20.10', 'ubuntu 20.10'],
      ['ubuntu', '3.0.2-0ubuntu1.15', undefined],
      ['ubuntu', '2.35-0ubuntu3.8', undefined],
      ['ubuntu', '1.2-3ubuntu0.22.05.1', undefined], // no Ubuntu release in May
    ];
    for (const [vendor, version, want] of cases) {
      const got = releaseFromDebVersion(vendor, version);
      assert.equal(got ? `${got.id} ${got.versionId}` : undefined, want, `${vendor} ${version}`);
    }
  });

  test('property: any +debNNuM update names Debian NN; no version string throws', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9][0-9a-f.+]{0,12}-[0-9]{1,2}$/),
        fc.integer({ min: 1, max: 99 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom('+', '~'),
        (base, release, update, sep) => {
          const got = releaseFromDebVersion('debian', `${base}${sep}deb${release}u${update}`);
          assert.deepEqual(got, { id: 'debian', versionId: String(release) });
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('debian', 'ubuntu', ''), (version, vendor) => {
        const got = releaseFromDebVersion(vendor, version);
        if (got) assert.match(got.versionId ?? '', /^\d+(\.\d+)?$/);
      }),
    );
  });

  test('--distro ID-VERSION as the purl distro qualifier spells it; anything else is a usage error', () => {
    assert.deepEqual(parseDistroOption('debian-12'), { id: 'debian', versionId: '12' });
    assert.deepEqual(parseDistroOption('ubuntu-24.04'), { id: 'ubuntu', versionId: '24.04' });
    assert.deepEqual(parseDistroOption('alpine-3.20'), { id: 'alpine', versionId: '3.20' });
    for (const bad of [
      'debian',
      'debian-bookworm',
      'Debian-12',
      'foo-1',
      '-12',
      'debian-12 ',
      'debian-12\u001b',
    ]) {
      assert.throws(
        () => parseDistroOption(bad),
        (e: unknown) => e instanceof WaybillError && e.code === 'USAGE' && /--distro/.test(e.message),
        bad,
      );
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          const d = parseDistroOption(s);
          assert.equal(`${d.id}-${d.versionId}`, s);
        } catch (e) {
          assert.ok(e instanceof WaybillError);
        }
      }),
    );
  });

  test('which release a .deb is looked up in: qualifier, then --distro, then its version', () => {
    const release = (c: InventoryComponent, assumed?: string) => {
      const q = packageQuery(c, assumed ? { assumedDistro: parseDistroOption(assumed) } : {});
      assert.ok(q.ok);
      return `${q.query.base}:${q.query.release ?? '?'}/${q.query.name}@${q.query.version}`;
    };
    const libuuid = deb('pkg:deb/debian/libuuid1@2.38.1-5%2Bdeb12u3?arch=amd64', {
      'waybill:source-package': 'util-linux',
      'waybill:source-version': '2.38.1-5+deb12u3',
    });
    assert.equal(release(libuuid), 'Debian:12/util-linux@2.38.1-5+deb12u3');
    assert.equal(release(libuuid, 'debian-11'), 'Debian:11/util-linux@2.38.1-5+deb12u3');
    // An Ubuntu .deb whose version does not say so is written pkg:deb/debian; --distro names the vendor.
    const hello = deb('pkg:deb/debian/hello@2.10-3?arch=amd64');
    assert.equal(release(hello), 'Debian:?/hello@2.10-3');
    assert.equal(release(hello, 'ubuntu-24.04'), 'Ubuntu:24.04/hello@2.10-3');
    // --distro for another kind of package does not apply to this one.
    assert.equal(release(hello, 'alpine-3.20'), 'Debian:?/hello@2.10-3');
    // The qualifier is a recorded fact: it wins over --distro.
    const qualified = deb('pkg:deb/debian/hello@2.10-3?arch=amd64&distro=debian-12');
    assert.equal(release(qualified, 'debian-11'), 'Debian:12/hello@2.10-3');
    // A binNMU binary: the source version names the release.
    const binnmu = deb('pkg:deb/debian/libfoo1@1.0-1%2Bdeb12u1%2Bb2?arch=amd64', {
      'waybill:source-package': 'foo',
      'waybill:source-version': '1.0-1+deb12u1',
    });
    assert.equal(release(binnmu), 'Debian:12/foo@1.0-1+deb12u1');
    assert.equal(
      release(deb('pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64'), 'alpine-3.20'),
      'Alpine:v3.20/musl@1.2.5-r0',
    );
  });
});
