/**
 * Reading a published release back, from a local directory (`file://`) and over HTTP from a static
 * download site (test/helpers/static-site.ts: node:http on 127.0.0.1 serving the directory as any
 * web server would — the real component for a download site). Everything is checked against
 * SHA256SUMS, index.json and the record; a tampered file is named with both digests.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type StaticSite, serveDirectory } from '../../test/helpers/static-site.ts';
import { isWaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { publishToReleaseDirectory } from './release-dir.ts';
import { ReleaseIntegrityError } from './release-integrity.ts';
import { openRelease, releaseCachePath } from './release-read.ts';
import { formatSha256Sums, parseSha256Sums } from './sha256sums.ts';
import { sampleReleaseBundle } from './testing.ts';

let tmp: string;
let root: string;
let cacheDir: string;
let site: StaticSite;
const FILE = 'hello-1.2.3.tar';
const NO_RETRY = { retry: { attempts: 1 } };

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'waybill-release-read-'));
  root = join(tmp, 'releases');
  mkdirSync(root);
  mkdirSync(join(tmp, 'work'));
  site = await serveDirectory(root, { redirect: 'mirror' });
});
after(async () => {
  await site.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  cacheDir = mkdtempSync(join(tmp, 'cache-'));
  const bundle = sampleReleaseBundle(join(tmp, 'work'), {
    extra: [
      { fileName: `${FILE}.record.sigstore.json`, bytes: Buffer.from('{"bundle":1}'), kind: 'bundle' },
      { fileName: `${FILE}.rebuild.tar`, bytes: Buffer.from('kit'), kind: 'rebuild-kit' },
    ],
  });
  await publishToReleaseDirectory(root, bundle);
});

const url = (path = `hello/1.2.3/${FILE}`) => `${site.origin}/${path}`;

/** Replaces a published file's bytes, and SHA256SUMS with it when `relist`. */
function tamper(name: string, bytes: string, relist = false): void {
  const dir = join(root, 'hello', '1.2.3');
  writeFileSync(join(dir, name), bytes);
  if (!relist) return;
  const sums = parseSha256Sums(readFileSync(join(dir, 'SHA256SUMS'), 'utf8'), 'S').map((l) =>
    l.name === name ? { name, digest: sha256Digest(bytes) } : l,
  );
  writeFileSync(join(dir, 'SHA256SUMS'), formatSha256Sums(sums));
}

describe('over http', () => {
  test('the artifact is downloaded once into the cache by digest; statement sidecars are read and checked', async () => {
    const progress: number[] = [];
    const opened = await openRelease(url(), {
      cacheDir,
      site: NO_RETRY,
      onProgress: (d) => progress.push(d),
    });
    assert.equal(opened.digest, sha256Digest('the hello 1.2.3 release\n'));
    assert.equal(opened.artifactPath, releaseCachePath(cacheDir, opened.digest, FILE));
    assert.equal(readFileSync(opened.artifactPath, 'utf8'), 'the hello 1.2.3 release\n');
    assert.equal(opened.downloaded, true);
    assert.deepEqual([...opened.sidecars.keys()].sort(), [
      `${FILE}.cdx.json`,
      `${FILE}.record.sigstore.json`,
      `${FILE}.waybill.json`,
    ]);
    assert.deepEqual(opened.sidecarNames, [
      `${FILE}.cdx.json`,
      `${FILE}.rebuild.tar`,
      `${FILE}.record.sigstore.json`,
      `${FILE}.waybill.json`,
    ]);
    assert.equal(opened.indexed?.published, '2026-03-02T08:00:00Z');
    assert.deepEqual(opened.notes, []);
    assert.equal(progress.at(-1), 24);
    // The rebuild kit is read on demand, checked; an unlisted name is not read at all.
    assert.equal((await opened.readFile(`${FILE}.rebuild.tar`))?.toString(), 'kit');
    assert.equal(await opened.readFile('SHA256SUMS'), undefined);

    site.requests.length = 0;
    const again = await openRelease(url(), { cacheDir, site: NO_RETRY });
    assert.equal(again.downloaded, false);
    assert.ok(!site.requests.includes(`GET /hello/1.2.3/${FILE}`), site.requests.join('\n'));
  });

  test('a site that redirects downloads elsewhere on the same server is followed', async () => {
    const opened = await openRelease(url(`mirror/hello/1.2.3/${FILE}`), { cacheDir, site: NO_RETRY });
    assert.equal(opened.digest, sha256Digest('the hello 1.2.3 release\n'));
    assert.ok(site.requests.includes(`GET /mirror/hello/1.2.3/SHA256SUMS`));
  });

  test('a tampered artifact fails naming the file and both digests, and nothing enters the cache', async () => {
    tamper(FILE, 'a trojan\n');
    await assert.rejects(openRelease(url(), { cacheDir, site: NO_RETRY }), (e) => {
      assert.ok(e instanceof ReleaseIntegrityError, String(e));
      assert.equal(e.file, FILE);
      assert.equal(e.actual, sha256Digest('a trojan\n'));
      assert.equal(e.expected, sha256Digest('the hello 1.2.3 release\n'));
      assert.match(e.message, new RegExp(`${FILE} is ${e.actual}, but SHA256SUMS says ${e.expected}`));
      return true;
    });
    assert.ok(!existsSync(releaseCachePath(cacheDir, sha256Digest('the hello 1.2.3 release\n'), FILE)));
  });

  test('a cached copy damaged later is fetched again', async () => {
    const first = await openRelease(url(), { cacheDir, site: NO_RETRY });
    writeFileSync(first.artifactPath, 'damaged');
    const second = await openRelease(url(), { cacheDir, site: NO_RETRY });
    assert.equal(second.downloaded, true);
    assert.equal(readFileSync(second.artifactPath, 'utf8'), 'the hello 1.2.3 release\n');
  });

  test('tampered sidecars, a record of another artifact, an index that disagrees: each named', async () => {
    tamper(`${FILE}.cdx.json`, '{"components":[{"name":"evil"}]}');
    await assert.rejects(
      openRelease(url(), { cacheDir, site: NO_RETRY }),
      (e) =>
        e instanceof ReleaseIntegrityError && e.file === `${FILE}.cdx.json` && e.authority === 'SHA256SUMS',
    );
    // Changed and re-listed in SHA256SUMS: index.json still names the published digest.
    tamper(`${FILE}.cdx.json`, '{"components":[{"name":"evil"}]}', true);
    await assert.rejects(
      openRelease(url(), { cacheDir, site: NO_RETRY }),
      (e) =>
        e instanceof ReleaseIntegrityError && e.file === `${FILE}.cdx.json` && e.authority === 'index.json',
    );
    // Artifact and SHA256SUMS replaced together, index.json removed: the record still binds the old digest.
    rmSync(join(root, 'hello', 'index.json'));
    tamper(FILE, 'a trojan\n', true);
    await assert.rejects(openRelease(url(), { cacheDir, site: NO_RETRY }), (e) => {
      assert.ok(e instanceof ReleaseIntegrityError);
      assert.equal(e.authority, 'the release record');
      assert.match(
        e.message,
        /hello-1\.2\.3\.tar is sha256:[0-9a-f]{64}, but the release record says sha256:[0-9a-f]{64}/,
      );
      return true;
    });
  });

  test('missing pieces and refused URLs are one line each', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        url('hello/9.9/x.tar'),
        'NOT_FOUND',
        /hello\/9\.9\/SHA256SUMS is missing: not a published release directory entry/,
      ],
      [url('hello/1.2.3/other.tar'), 'NOT_FOUND', /other\.tar is not listed in SHA256SUMS/],
      [url(`hello/1.2.3/${FILE}?sig=1`), 'USAGE', /no \?query or #fragment/],
      [`${site.origin}/x.tar`, 'USAGE', /a release URL names a file: https:\/\/HOST\/NAME\/VERSION\/FILE/],
      [
        `http://example.org/hello/1.2.3/${FILE}`,
        'AUTH',
        /plain http to a host that is not loopback; refused/,
      ],
      [`https://user:secret@example.org/hello/1.2.3/${FILE}`, 'AUTH', /credentials/],
      [url('hello/..%2F..%2Fetc/passwd'), 'USAGE', /contains a path separator/],
      [url('hello/1.2.3/%1b%5b2J'), 'USAGE', /control character \\x1b/],
    ];
    for (const [ref, code, message] of cases) {
      await assert.rejects(
        openRelease(ref, { cacheDir, site: NO_RETRY }),
        (e) =>
          isWaybillError(e) && e.code === code && message.test(e.message) && !e.message.includes('secret'),
        ref,
      );
    }
    rmSync(join(root, 'hello', '1.2.3', `${FILE}.waybill.json`));
    await assert.rejects(
      openRelease(url(), { cacheDir, site: NO_RETRY }),
      (e) => isWaybillError(e) && /waybill\.json is listed in SHA256SUMS but missing/.test(e.message),
    );
  });

  test('an entry index.json does not list yet is read, with a note', async () => {
    const index = readFileSync(join(root, 'hello', 'index.json'), 'utf8');
    writeFileSync(join(root, 'hello', 'index.json'), index.replace('"1.2.3"', '"1.2.2"'));
    const opened = await openRelease(url(), { cacheDir, site: NO_RETRY });
    assert.deepEqual(opened.notes, [
      'index.json does not list 1.2.3/hello-1.2.3.tar: its publication was not finished',
    ]);
  });
});

test('file:// reads the local release directory in place, with the same checks', async () => {
  const ref = pathToFileURL(join(root, 'hello', '1.2.3', FILE)).href;
  const opened = await openRelease(ref, { cacheDir });
  assert.equal(opened.artifactPath, join(root, 'hello', '1.2.3', FILE));
  assert.equal(opened.downloaded, false);
  assert.equal(opened.sidecars.size, 3);
  tamper(FILE, 'a trojan\n');
  await assert.rejects(
    openRelease(ref, { cacheDir }),
    (e) => e instanceof ReleaseIntegrityError && e.file === FILE,
  );
});
