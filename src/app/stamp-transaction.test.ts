import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStampOutput } from './stamp-transaction.ts';

test('isStampOutput: the artifact, its sidecars and transient files; for a dir: only what is beside it', () => {
  const file = isStampOutput({ kind: 'file', path: '/src/app/dist/hello.deb' });
  for (const own of [
    'hello.deb',
    'hello.deb.waybill.json',
    'hello.deb.cdx.json',
    'hello.deb.spdx.json',
    'hello.deb.record.sigstore.json',
    'hello.deb.audit.json',
    '.hello.deb.waybill.lock',
    '.hello.deb.waybill-journal.json',
    '.hello.deb.waybill-123-0123456789abcdef.tmp',
    '.hello.deb.waybill-123-0123456789abcdef.tmp/staged-file',
  ])
    assert.equal(file(`/src/app/dist/${own}`), true, own);
  for (const other of [
    '/src/app/dist/other.deb',
    '/src/app/dist/hello.deb.orig',
    '/src/app/dist/.other.deb.waybill.lock',
    '/src/app/hello.deb',
    '/src/app/dist/hello.deb/inner',
    '/src/app/dist',
  ])
    assert.equal(file(other), false, other);

  // A dir: artifact may be the checkout itself: its contents are never claimed.
  const dir = isStampOutput({ kind: 'dir', path: '/src/app' });
  assert.equal(dir('/src/app.waybill.json'), true);
  assert.equal(dir('/src/app'), false);
  assert.equal(dir('/src/app/main.c'), false);

  // An OCI layout is a build output through and through.
  const layout = isStampOutput({ kind: 'oci', path: '/src/app/image', reference: 'latest' });
  assert.equal(layout('/src/app/image/blobs/sha256/ab'), true);
  assert.equal(layout('/src/app/image'), true);
  assert.equal(layout('/src/app/image2/index.json'), false);
});
