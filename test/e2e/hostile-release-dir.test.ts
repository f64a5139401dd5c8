/**
 * End to end through the real CLI: a release directory an attacker wrote, read over `file://`.
 * Memory stays bounded however many statement sidecars SHA256SUMS lists: each is held in memory,
 * so their total has a limit, not only each one's size.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { MAX_SIDECAR_BYTES } from '../../src/publish/release-read.ts';
import { sha256Digest } from '../../src/util/digest.ts';
import { waybill } from '../helpers/cli.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'waybill-hostile-release-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('many large sidecars listed for one file: one line, exit 2, not all of them in memory', async () => {
  const version = join(dir, 'hello', '1.0');
  mkdirSync(version, { recursive: true });
  const artifact = Buffer.from('hello\n');
  writeFileSync(join(version, 'hello.txt'), artifact);
  // Sparse files of zeros, each just under the one-file limit: cheap on disk, costly in memory.
  const size = MAX_SIDECAR_BYTES - 1;
  // Three are over the 512 MiB all the sidecars of one file may hold together.
  const count = 3;
  const zeros = sha256Digest(Buffer.alloc(size)).slice('sha256:'.length);
  const lines = [`${sha256Digest(artifact).slice('sha256:'.length)}  hello.txt`];
  for (let i = 0; i < count; i++) {
    const name = `hello.txt.k${i}.sigstore.json`;
    writeFileSync(join(version, name), '');
    truncateSync(join(version, name), size);
    lines.push(`${zeros}  ${name}`);
  }
  writeFileSync(join(version, 'SHA256SUMS'), `${lines.join('\n')}\n`);
  const url = pathToFileURL(join(version, 'hello.txt')).href;
  const r = await waybill(['inspect', url]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^waybill: file:\S+hello\.txt: the statement sidecars SHA256SUMS lists for hello\.txt add up to more than \d+ bytes$/m,
  );
});
