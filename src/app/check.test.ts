/**
 * An image that was stamped but reaches `check` without its record: the record mark the stamp
 * leaves in the image says so, and the fix says how the record is carried.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { makeTmp, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import { stampImage } from '../oci/stamp.ts';
import { WAYBILL_RECORD_ANNOTATION } from '../oci/types.ts';
import { defaultPolicy } from '../policy/types.ts';
import { openArtifact } from '../sources/open.ts';
import { buildOciLayout } from '../sources/testing.ts';
import { checkOpenedArtifact, missingRecordHint } from './check.ts';

const exec = promisify(execFile);
let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-check-hint-');
});
after(() => removeTmp(tmp));

test('a stamped image without its record: the fix says the attachments were left behind', async (t) => {
  const layout = join(tmp, 'layout');
  await buildOciLayout(layout, [{ 'etc/hostname': 'x\n' }], { tag: 'latest' });
  // Never stamped: the usual advice.
  const plain = await openArtifact(`oci:${layout}:latest`);
  assert.equal(missingRecordHint(plain), undefined);
  const before = await checkOpenedArtifact(plain, { policy: defaultPolicy() });
  assert.match(before.rules[0]!.findings[0]!.fix ?? '', /stamp the artifact with `waybill stamp`/);

  // The native stamp alone (as if the record attachments had not been copied along).
  await stampImage(layout, 'latest', { name: 'hello', version: '1.0', team: 'T' });
  const stamped = await openArtifact(`oci:${layout}:latest`);
  assert.equal(
    stamped.image?.selected?.manifest.annotations?.[WAYBILL_RECORD_ANNOTATION],
    'https://waybill.dev/release-record/v2',
  );
  const report = await checkOpenedArtifact(stamped, { policy: defaultPolicy() });
  const noRecord = report.rules.filter((r) => r.findings[0]?.message.startsWith('no release record'));
  assert.deepEqual(
    noRecord.map((r) => r.id),
    ['identity', 'manifest', 'dates', 'signed-source', 'support'],
  );
  for (const rule of noRecord)
    assert.match(rule.findings[0]!.fix ?? '', /attachments were probably not copied .*waybill copy SRC DST/);

  // A docker-archive keeps the mark in its labels; its record is a sidecar, and the fix says so.
  const archive = join(tmp, 'image.tar');
  try {
    await exec('skopeo', ['copy', '-q', `oci:${layout}:latest`, `docker-archive:${archive}:hello:1.0`]);
  } catch (e) {
    return t.skip(`skopeo not usable: ${String((e as Error).message).split('\n')[0]}`);
  }
  assert.match(
    missingRecordHint(await openArtifact(`docker-archive:${archive}`)) ?? '',
    /no record is beside this archive: copy its sidecars \(image\.tar\.waybill\.json, image\.tar\.cdx\.json\)/,
  );
});
