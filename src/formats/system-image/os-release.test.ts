import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../../errors.ts';
import {
  distroFromFiles,
  distroFromOsRelease,
  distroQualifier,
  parseOsRelease,
  readOsRelease,
  wantOsRelease,
} from './os-release.ts';

const FIXTURE = new URL(
  '../../../../shared/fixtures/vectors/os-package-db/dpkg/syft/image-dpkg/etc/os-release',
  import.meta.url,
).pathname;

test('os-release(5) quoting: double quotes with escapes, single quotes, bare values, comments', () => {
  const fields = parseOsRelease(
    [
      '# comment',
      'NAME="Fedora \\"Linux\\""',
      "ID='fedora'",
      'VERSION_ID=39',
      'PRETTY_NAME="a \\$b \\`c\\` \\\\ d"',
      'EMPTY=',
      'MIXED="ab"\'cd\'ef',
      '',
      'TRAILING=x   ',
    ].join('\n'),
  );
  assert.deepEqual(fields, {
    NAME: 'Fedora "Linux"',
    ID: 'fedora',
    VERSION_ID: '39',
    PRETTY_NAME: 'a $b `c` \\ d',
    EMPTY: '',
    MIXED: 'abcdef',
    TRAILING: 'x',
  });
  for (const bad of ['NAME="open', "ID='open", 'no equals sign', '1KEY=x', 'A=b c']) {
    assert.throws(
      () => parseOsRelease(bad),
      (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
      bad,
    );
  }
});

test('distro: fields, qualifier, etc wins over usr/lib, symlinks and broken files fall through', () => {
  const d = distroFromOsRelease({
    ID: 'Debian',
    VERSION_ID: '12',
    VERSION_CODENAME: 'bookworm',
    NAME: 'Debian GNU/Linux',
  });
  assert.deepEqual(d, {
    id: 'debian',
    versionId: '12',
    versionCodename: 'bookworm',
    name: 'Debian GNU/Linux',
  });
  assert.equal(distroQualifier(d!), 'debian-12');
  assert.equal(distroQualifier({ id: 'debian', versionCodename: 'trixie' }), 'debian-trixie');
  assert.equal(distroQualifier({ id: 'arch' }), 'arch');
  assert.equal(distroFromOsRelease({ NAME: 'x' }), undefined);
  assert.equal(distroFromOsRelease({ ID: 'evil/ns' }), undefined);
  const entry = (path: string, type: 'file' | 'symlink' = 'file') => ({ path, type, size: 0, mode: 0o644 });
  assert.equal(wantOsRelease(entry('etc/os-release')), true);
  assert.equal(wantOsRelease(entry('usr/lib/os-release')), true);
  assert.equal(wantOsRelease(entry('usr/etc/os-release')), false);
  const files = [
    { entry: entry('usr/lib/os-release'), data: Buffer.from('ID=alpine\nVERSION_ID=3.19.1\n') },
    { entry: entry('etc/os-release'), data: Buffer.from('ID=wolfi\n') },
  ];
  assert.equal(distroFromFiles(files)?.id, 'wolfi');
  assert.equal(
    distroFromFiles([files[0]!, { entry: entry('etc/os-release', 'symlink'), data: Buffer.alloc(0) }])?.id,
    'alpine',
  );
  const warnings: string[] = [];
  assert.equal(
    distroFromFiles([files[0]!, { entry: entry('etc/os-release'), data: Buffer.from('ID="x') }], (p) =>
      warnings.push(p),
    )?.id,
    'alpine',
  );
  assert.deepEqual(warnings, ['etc/os-release']);
});

test('real os-release (Debian 12 from syft fixture and this machine)', (t) => {
  if (existsSync(FIXTURE)) {
    const d = readOsRelease(readFileSync(FIXTURE), 'etc/os-release');
    assert.deepEqual(d, {
      id: 'debian',
      versionId: '12',
      versionCodename: 'bookworm',
      name: 'Debian GNU/Linux',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
  } else t.diagnostic(`fixture absent: ${FIXTURE}`);
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    if (existsSync(p)) assert.ok(parseOsRelease(readFileSync(p, 'utf8'), p).ID, `${p} has an ID`);
  }
});

test('fast-check: random and mutated input never throws anything but WaybillError', () => {
  const real = existsSync(FIXTURE) ? readFileSync(FIXTURE) : Buffer.from('ID=debian\nVERSION_ID="12"\n');
  const check = (s: string) => {
    try {
      distroFromOsRelease(parseOsRelease(s));
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 300 }), check), { numRuns: 500 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 10 }),
      (edits) => {
        const b = Buffer.from(real);
        for (const [at, v] of edits) b[at] = v;
        check(b.toString('latin1'));
      },
    ),
    { numRuns: 300 },
  );
});
