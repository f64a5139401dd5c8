/**
 * Publishing into a release directory on a real file system: the layout, SHA256SUMS checked by real
 * coreutils (`sha256sum -c`), index.json, idempotence, refusals that change nothing, and publications
 * killed (SIGKILL, as kill -9 or a power cut) at named points in a process of their own.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundleJson } from '../../test/helpers/publish-release.ts';
import { isWaybillError } from '../errors.ts';
import { currentOwner } from '../util/lock.ts';
import { publishToReleaseDirectory, type ReleaseBundle } from './release-dir.ts';
import { parseReleaseIndex } from './release-index.ts';
import { sampleReleaseBundle } from './testing.ts';

const PUBLISH_SCRIPT = fileURLToPath(new URL('../../test/helpers/publish-release.ts', import.meta.url));

let tmp: string;
let root: string;
let work: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'waybill-release-dir-'));
  root = join(tmp, 'releases');
  work = join(tmp, 'work');
  mkdirSync(root);
  mkdirSync(work);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** Every file under `dir` with its bytes and mtime: what "nothing changed" compares. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = lstatSync(path);
    out[relative(dir, path)] = info.isFile()
      ? `${readFileSync(path, 'hex')}@${info.mtimeMs}`
      : entry.isDirectory()
        ? 'dir'
        : 'other';
  }
  return out;
}

function sha256sumCheck(dir: string): string {
  return execFileSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
}

function rejects(code: string, message: RegExp) {
  return (e: unknown) =>
    isWaybillError(e) && e.code === code && message.test(e.message) && !e.message.includes('\n');
}

describe('publishing', () => {
  test('writes NAME/VERSION/FILE, its sidecars, SHA256SUMS (sha256sum -c passes) and index.json last', async () => {
    const bundle = sampleReleaseBundle(work);
    const progress: Array<[number, number]> = [];
    const outcome = await publishToReleaseDirectory(root, bundle, {
      onProgress: (d, t) => progress.push([d, t]),
    });
    assert.equal(outcome.changed, true);
    assert.deepEqual(outcome.written, [
      'hello/1.2.3/hello-1.2.3.tar.waybill.json',
      'hello/1.2.3/hello-1.2.3.tar.cdx.json',
      'hello/1.2.3/hello-1.2.3.tar',
      'hello/1.2.3/SHA256SUMS',
      'hello/index.json',
    ]);
    assert.equal(outcome.target, join(root, 'hello', '1.2.3', 'hello-1.2.3.tar'));
    assert.match(outcome.message, /^published hello 1\.2\.3: hello-1\.2\.3\.tar and 2 sidecars/);
    // Only the release: no lock, staging directory or journal left behind.
    assert.deepEqual(readdirSync(join(root, 'hello')).sort(), ['1.2.3', 'index.json']);
    const versionDir = join(root, 'hello', '1.2.3');
    assert.match(
      sha256sumCheck(versionDir),
      /hello-1\.2\.3\.tar: OK\nhello-1\.2\.3\.tar\.cdx\.json: OK\nhello-1\.2\.3\.tar\.waybill\.json: OK\n/,
    );
    assert.equal(readFileSync(join(versionDir, 'hello-1.2.3.tar'), 'utf8'), 'the hello 1.2.3 release\n');
    const index = parseReleaseIndex(
      readFileSync(join(root, 'hello', 'index.json'), 'utf8'),
      'index.json',
      'hello',
    );
    const entry = index.versions[0]?.artifacts[0];
    assert.equal(entry?.digest, bundle.digest);
    assert.equal(entry?.built, '2026-03-01T12:00:00Z');
    assert.equal(entry?.published, '2026-03-02T08:00:00Z');
    assert.deepEqual(
      entry?.files.map((f) => [f.name, f.kind]),
      [
        ['hello-1.2.3.tar.cdx.json', 'sbom'],
        ['hello-1.2.3.tar.waybill.json', 'record'],
      ],
    );
    const total = progress.at(-1)?.[1] ?? 0;
    assert.ok(total > 0 && progress.at(-1)?.[0] === total, JSON.stringify(progress));
  });

  test('the same release again changes nothing and says so', async () => {
    const bundle = sampleReleaseBundle(work);
    await publishToReleaseDirectory(root, bundle);
    const before = snapshot(root);
    const again = await publishToReleaseDirectory(root, { ...bundle, published: '2027-01-01T00:00:00Z' });
    assert.equal(again.changed, false);
    assert.deepEqual(again.written, []);
    assert.match(
      again.message,
      /hello-1\.2\.3\.tar \(sha256:[0-9a-f]{64}\) is already published .*; nothing changed$/,
    );
    assert.deepEqual(snapshot(root), before);
  });

  test('a published release whose SHA256SUMS was lost is repaired by publishing it again', async () => {
    const bundle = sampleReleaseBundle(work);
    await publishToReleaseDirectory(root, bundle);
    rmSync(join(root, 'hello', '1.2.3', 'SHA256SUMS'));
    const repaired = await publishToReleaseDirectory(root, bundle);
    assert.equal(repaired.changed, true);
    assert.deepEqual(repaired.written, ['hello/1.2.3/SHA256SUMS', 'hello/index.json']);
    assert.match(repaired.message, /the SHA256SUMS and index entry of hello-1\.2\.3\.tar/);
    assert.equal(
      sha256sumCheck(join(root, 'hello', '1.2.3'))
        .trim()
        .split('\n').length,
      3,
    );
  });

  test('a different file under the same name and version is CONFLICT, with or without force, and nothing changes', async () => {
    await publishToReleaseDirectory(root, sampleReleaseBundle(work));
    const before = snapshot(root);
    const other = sampleReleaseBundle(work, { content: 'a rebuilt, different tarball\n' });
    for (const force of [false, true]) {
      await assert.rejects(
        publishToReleaseDirectory(root, other, { force }),
        rejects(
          'CONFLICT',
          /hello-1\.2\.3\.tar: already holds sha256:[0-9a-f]{64}, not this release's sha256:[0-9a-f]{64}; a published file is never replaced/,
        ),
      );
      assert.deepEqual(snapshot(root), before);
    }
  });

  test('versions are listed in publication order; a version gains another architecture, never a changed file', async () => {
    await publishToReleaseDirectory(root, sampleReleaseBundle(work, { version: '1.10.0' }));
    await publishToReleaseDirectory(
      root,
      sampleReleaseBundle(work, { version: '1.9.0', file: 'hello-1.9.0-amd64.tar' }),
    );
    await publishToReleaseDirectory(
      root,
      sampleReleaseBundle(work, {
        version: '1.9.0',
        file: 'hello-1.9.0-arm64.tar',
        content: 'arm64 build\n',
      }),
    );
    const index = parseReleaseIndex(
      readFileSync(join(root, 'hello', 'index.json'), 'utf8'),
      'index.json',
      'hello',
    );
    assert.deepEqual(
      index.versions.map((v) => [v.version, v.artifacts.map((a) => a.file)]),
      [
        ['1.10.0', ['hello-1.10.0.tar']],
        ['1.9.0', ['hello-1.9.0-amd64.tar', 'hello-1.9.0-arm64.tar']],
      ],
    );
    assert.equal(
      sha256sumCheck(join(root, 'hello', '1.9.0'))
        .trim()
        .split('\n').length,
      6,
    );
  });

  test('force replaces the sidecars of the same artifact, keeping its first publication date', async () => {
    const bundle = sampleReleaseBundle(work);
    await publishToReleaseDirectory(root, bundle);
    const signed = {
      ...bundle,
      published: '2026-04-01T00:00:00Z',
      files: [
        ...bundle.files,
        { fileName: 'hello-1.2.3.tar.record.sigstore.json', bytes: Buffer.from('{}'), kind: 'bundle' },
      ],
    };
    const plain = await publishToReleaseDirectory(root, signed);
    assert.equal(plain.changed, false);
    assert.match(plain.message, /the given sidecars differ from the published ones: force replaces them/);
    const forced = await publishToReleaseDirectory(root, signed, { force: true });
    assert.equal(forced.changed, true);
    assert.deepEqual(forced.written, [
      'hello/1.2.3/hello-1.2.3.tar.record.sigstore.json',
      'hello/1.2.3/SHA256SUMS',
      'hello/index.json',
    ]);
    assert.match(forced.message, /published hello 1\.2\.3: its sidecars/);
    const index = parseReleaseIndex(readFileSync(join(root, 'hello', 'index.json'), 'utf8'), 'i', 'hello');
    assert.equal(index.versions[0]?.artifacts[0]?.published, '2026-03-02T08:00:00Z');
    assert.equal(index.versions[0]?.artifacts[0]?.files.length, 3);
    assert.match(sha256sumCheck(join(root, 'hello', '1.2.3')), /record\.sigstore\.json: OK/);
  });
});

describe('refusals change nothing', () => {
  const cases: Array<[string, (b: ReleaseBundle) => ReleaseBundle, string, RegExp]> = [
    [
      'a name with a path',
      (b) => ({ ...b, name: '../etc' }),
      'USAGE',
      /release name "\.\.\/etc" contains a path separator/,
    ],
    [
      'a hidden version',
      (b) => ({ ...b, version: '.git' }),
      'USAGE',
      /release version "\.git" starts with "\."/,
    ],
    ['index.json as a version', (b) => ({ ...b, version: 'index.json' }), 'USAGE', /cannot be index\.json/],
    [
      'SHA256SUMS as a file',
      (b) => ({ ...b, artifactFileName: 'SHA256SUMS' }),
      'USAGE',
      /cannot be SHA256SUMS/,
    ],
    ['a control character', (b) => ({ ...b, version: '1.0\u001b[2J' }), 'USAGE', /control character \\x1b/],
    [
      'a sidecar not named after the file',
      (b) => ({ ...b, files: [...b.files, { fileName: 'other.json', bytes: Buffer.from('x'), kind: 'x' }] }),
      'USAGE',
      /sidecar "other\.json" is not named hello-1\.2\.3\.tar\.<suffix>/,
    ],
    [
      'a local date',
      (b) => ({ ...b, published: '2026-03-02T08:00:00+02:00' }),
      'USAGE',
      /published .* is not an RFC 3339 UTC date-time/,
    ],
    [
      'a record of another artifact',
      (b) => ({ ...b, digest: `sha256:${'e'.repeat(64)}` }),
      'USAGE',
      /waybill\.json: the record binds sha256:[0-9a-f]{64}, not the artifact/,
    ],
    [
      'an artifact that is not the digest given',
      (b) => ({
        ...b,
        files: b.files.filter((f) => f.kind !== 'record'),
        digest: `sha256:${'e'.repeat(64)}`,
      }),
      'DIGEST_MISMATCH',
      /digest is sha256:[0-9a-f]{64}, expected sha256:e{64}/,
    ],
  ];
  for (const [what, change, code, message] of cases) {
    test(what, async () => {
      await publishToReleaseDirectory(root, sampleReleaseBundle(work, { version: '1.0.0' }));
      const before = snapshot(root);
      await assert.rejects(
        publishToReleaseDirectory(root, change(sampleReleaseBundle(work))),
        rejects(code, message),
      );
      // A version directory may be created empty before the staging commit fails; nothing is listed.
      const after = snapshot(root);
      for (const key of Object.keys(after)) if (after[key] === 'dir' && !(key in before)) delete after[key];
      assert.deepEqual(after, before);
    });
  }

  test('a missing root, a file changed outside waybill, a link in a version directory, a held lock', async () => {
    await assert.rejects(
      publishToReleaseDirectory(join(tmp, 'nowhere'), sampleReleaseBundle(work)),
      rejects('NOT_FOUND', /nowhere: no such directory/),
    );
    await publishToReleaseDirectory(root, sampleReleaseBundle(work));
    const versionDir = join(root, 'hello', '1.2.3');
    writeFileSync(join(versionDir, 'hello-1.2.3.tar.cdx.json'), '{"edited": true}\n');
    const before = snapshot(root);
    const arm = sampleReleaseBundle(work, { file: 'hello-1.2.3-arm64.tar', content: 'arm\n' });
    await assert.rejects(
      publishToReleaseDirectory(root, arm),
      rejects(
        'DIGEST_MISMATCH',
        /1\.2\.3 \(published file\): hello-1\.2\.3\.tar\.cdx\.json is sha256:[0-9a-f]{64}, but SHA256SUMS says sha256:[0-9a-f]{64}/,
      ),
    );
    assert.deepEqual(snapshot(root), before);

    rmSync(join(root, 'hello'), { recursive: true });
    mkdirSync(join(root, 'hello', '1.2.3'), { recursive: true });
    symlinkSync('/etc/passwd', join(root, 'hello', '1.2.3', 'passwd'));
    await assert.rejects(
      publishToReleaseDirectory(root, sampleReleaseBundle(work)),
      rejects('UNSAFE_PATH', /passwd: is a symbolic link; a release directory holds regular files only/),
    );

    rmSync(join(root, 'hello'), { recursive: true });
    mkdirSync(join(root, 'hello'));
    writeFileSync(join(root, 'hello', '.waybill.lock'), `${JSON.stringify(currentOwner())}\n`);
    await assert.rejects(
      publishToReleaseDirectory(root, sampleReleaseBundle(work)),
      rejects('BUSY', /another waybill run holds the lock/),
    );
    assert.deepEqual(readdirSync(join(root, 'hello')), ['.waybill.lock']);
  });
});

describe('killed publications', () => {
  function publishInChild(bundle: ReleaseBundle, env: Record<string, string> = {}) {
    const file = join(work, `bundle-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(file, bundleJson(bundle));
    return spawnSync(process.execPath, [PUBLISH_SCRIPT, root, file], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
  }

  test('killed before the index is renamed: index.json unchanged; the next publication finishes it', async () => {
    await publishToReleaseDirectory(root, sampleReleaseBundle(work, { version: '1.0.0' }));
    const indexPath = join(root, 'hello', 'index.json');
    const indexBefore = readFileSync(indexPath, 'utf8');
    const bundle = sampleReleaseBundle(work);
    // Renames: record, SBOM, artifact, SHA256SUMS, index.json — killed after the fourth.
    const killed = publishInChild(bundle, { WAYBILL_TEST_CRASH_AT: 'commit:rename-4' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.equal(readFileSync(indexPath, 'utf8'), indexBefore);
    // The version's files are complete and checked, but not listed: not published yet.
    sha256sumCheck(join(root, 'hello', '1.2.3'));
    const resumed = publishInChild(bundle);
    assert.equal(resumed.status, 0, resumed.stderr);
    const outcome = JSON.parse(resumed.stdout) as { changed: boolean; message: string };
    assert.match(
      outcome.message,
      /^finished an interrupted publication \(.*index\.json\); .*already published/,
    );
    const index = parseReleaseIndex(readFileSync(indexPath, 'utf8'), 'i', 'hello');
    assert.deepEqual(
      index.versions.map((v) => v.version),
      ['1.0.0', '1.2.3'],
    );
    assert.deepEqual(readdirSync(join(root, 'hello')).sort(), ['1.0.0', '1.2.3', 'index.json']);
  });

  test('killed while staging: nothing visible changed; the next publication clears the leftovers', async () => {
    await publishToReleaseDirectory(root, sampleReleaseBundle(work, { version: '1.0.0' }));
    const before = snapshot(join(root, 'hello', '1.0.0'));
    const indexBefore = readFileSync(join(root, 'hello', 'index.json'), 'utf8');
    const bundle = sampleReleaseBundle(work);
    const killed = publishInChild(bundle, { WAYBILL_TEST_CRASH_AT: 'release:staged' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.equal(readFileSync(join(root, 'hello', 'index.json'), 'utf8'), indexBefore);
    assert.deepEqual(snapshot(join(root, 'hello', '1.0.0')), before);
    assert.deepEqual(readdirSync(join(root, 'hello', '1.2.3')), []);
    const resumed = publishInChild(bundle);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as { changed: boolean }).changed, true);
    assert.deepEqual(readdirSync(join(root, 'hello')).sort(), ['1.0.0', '1.2.3', 'index.json']);
    assert.ok(statSync(join(root, 'hello', '1.2.3', 'hello-1.2.3.tar')).isFile());
  });
});
