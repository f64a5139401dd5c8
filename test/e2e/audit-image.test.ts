/**
 * `waybill audit` on an OCI image: a Debian 7 root with nginx installed (dpkg status with its source
 * package), against the real DSA-3029-1 advisory: the finding names the source package's advisory,
 * the layer it came from and the fix; the OS is past end of life; `--attach` stores the statement as
 * an OCI artifact whose subject is the image.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AUDIT_ARTIFACT_TYPE } from '../../src/audit/attestation.ts';
import { findAttachments } from '../../src/oci/attach.ts';
import { OciLayout, resolveRef } from '../../src/oci/layout.ts';
import { haveTools, umociImage } from '../../src/oci/testing.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import { makeTmp, removeTmp } from '../helpers/exec-fixtures.ts';

const DSA = fileURLToPath(new URL('../../../shared/fixtures/osv/distro-osv-samples/full', import.meta.url));
let tmp: string;

before(async () => {
  tmp = await makeTmp('waybill-audit-image-');
});
after(() => removeTmp(tmp));

const STATUS = [
  'Package: nginx-light',
  'Status: install ok installed',
  'Architecture: amd64',
  'Source: nginx',
  'Version: 1.2.1-2.2+wheezy2',
  'Description: small, powerful, scalable web/proxy server',
  '',
  'Package: base-files',
  'Status: install ok installed',
  'Architecture: amd64',
  'Version: 7.1wheezy8',
  'Description: Debian base system miscellaneous files',
  '',
].join('\n');

test('an OCI image: source-package match with layer, end of life, attached statement', async (t) => {
  const missing = haveTools('umoci');
  if (missing) return t.skip(missing);
  if (!existsSync(DSA)) return t.skip('../shared/fixtures/osv not present');
  const layout = join(tmp, 'layout');
  await umociImage(layout, 'wheezy', {
    files: {
      'etc/os-release': 'ID=debian\nVERSION_ID="7"\nPRETTY_NAME="Debian GNU/Linux 7 (wheezy)"\n',
      'var/lib/dpkg/status': STATUS,
    },
  });
  const db = join(tmp, 'db.sqlite');
  assert.equal((await waybill(['db', 'import', '--db', db, DSA])).code, 0);
  const ref = `oci:${layout}:wheezy`;
  const r = await waybillJson<{
    subject: { digest: string };
    freshness: { os?: { status: string; release: string } };
    findings: Array<{
      id: string;
      aliases: string[];
      package: string;
      fixed: string[];
      component: { name: string };
      locations: Array<{ layer?: string }>;
    }>;
  }>(['audit', ref, '--db', db, '--now', '2026-01-01T00:00:00Z', '--attach', '--fail-on', 'low']);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(
    r.json.findings.map((f) => [f.id, f.aliases, f.package, f.component.name, f.fixed]),
    [['DSA-3029-1', ['CVE-2014-3616'], 'Debian:7/nginx', 'nginx-light', ['1.2.1-2.2+wheezy3']]],
  );
  assert.match(r.json.findings[0]?.locations[0]?.layer ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(r.json.freshness.os && [r.json.freshness.os.release, r.json.freshness.os.status], [
    '7',
    'end-of-life',
  ]);
  const store = await OciLayout.open(layout);
  const image = await resolveRef(store, 'wheezy');
  const attached = await findAttachments(layout, image.descriptor.digest, AUDIT_ARTIFACT_TYPE);
  assert.equal(attached.length, 1);
  assert.match(r.stderr, /audit attached: oci:sha256:/);
});
