import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck } from './check.ts';
import { DECLARED_LICENSE_PATH, licenseDisagreement } from './declared-license.ts';
import { goodInput, goodSbom } from './test-support.ts';

test('the record agrees with the package: the same expression, in any order or case, or one choice it offers', () => {
  assert.equal(licenseDisagreement('Apache-2.0', ['Apache-2.0']), undefined);
  assert.equal(licenseDisagreement('MIT AND Apache-2.0', ['apache-2.0', 'MIT']), undefined);
  assert.equal(licenseDisagreement('Apache-2.0', ['MIT OR Apache-2.0']), undefined);
  assert.equal(licenseDisagreement('GPL-2.0-only', ['GPL-2.0-or-later']), undefined);
  assert.equal(licenseDisagreement('Apache-2.0', []), undefined, 'a package that declares nothing');
  assert.equal(licenseDisagreement('LicenseRef-Bouncy', ['LicenseRef-Bouncy']), undefined);
});

test('the record claims another license: both named, the key and the policy list to change', () => {
  const jq = licenseDisagreement('Apache-2.0', ['CC-BY-3.0', 'GPL-2.0-or-later', 'MIT']);
  assert.deepEqual(jq, {
    declared: 'CC-BY-3.0 AND GPL-2.0-or-later AND MIT',
    message:
      'the package declares its own license CC-BY-3.0 AND GPL-2.0-or-later AND MIT, but the record says Apache-2.0 (license in waybill.yaml)',
    fix: 'if the package is not yours to relicense, set license: "CC-BY-3.0 AND GPL-2.0-or-later AND MIT" in waybill.yaml (or pass --license), and allow its licenses in policy.allowedLicenses',
  });
  assert.equal(licenseDisagreement('MIT', ['MIT AND Apache-2.0'])?.declared, 'MIT AND Apache-2.0');
  assert.equal(
    licenseDisagreement('MIT', ['GPL-2.0-only OR Apache-2.0', 'BSD-3-Clause'])?.declared,
    '(GPL-2.0-only OR Apache-2.0) AND BSD-3-Clause',
  );
  // A name with no SPDX id cannot be compared; it is named as written.
  const named = licenseDisagreement('Apache-2.0', ['Bouncy Castle Licence']);
  assert.equal(named?.declared, 'Bouncy Castle Licence');
  assert.match(named?.fix ?? '', /LicenseRef-<name>/);
});

test('support: a warning, not a failure, when the SBOM subject declares another license and the package has no license field', () => {
  const input = goodInput();
  delete input.facts.license; // a .deb: its license is in the copyright file, not a control field
  input.sbom = { ...goodSbom(), subjectLicenses: ['GPL-3.0-or-later'] };
  const report = runCheck(input);
  const support = report.rules.find((r) => r.id === 'support')!;
  assert.equal(support.status, 'warn');
  assert.equal(report.passed, true);
  const note = support.findings.find((f) => f.path === DECLARED_LICENSE_PATH);
  assert.equal(note?.severity, 'warning');
  assert.match(
    note?.message ?? '',
    /declares its own license GPL-3.0-or-later, but the record says Apache-2.0/,
  );

  // The same license: no note. A license field (rpm, wheel) is compared by the existing rule instead.
  input.sbom = { ...goodSbom(), subjectLicenses: ['Apache-2.0'] };
  assert.equal(runCheck(input).rules.find((r) => r.id === 'support')!.status, 'pass');
  const withField = goodInput();
  withField.sbom = { ...goodSbom(), subjectLicenses: ['GPL-3.0-or-later'] };
  assert.ok(!runCheck(withField).rules.some((r) => r.findings.some((f) => f.path === DECLARED_LICENSE_PATH)));
});

test('support: a warning when stamp replaced the package’s own license field (the record’s upstream trail)', () => {
  // A third-party wheel said License-Expression: MIT; stamp wrote waybill.yaml's Apache-2.0 over it,
  // so the artifact and its SBOM now agree with the record: only the upstream trail remembers.
  const input = goodInput();
  input.record!.predicate.upstream = [
    { field: 'wheel METADATA Maintainer', value: 'Upstream Team' },
    { field: 'wheel METADATA License-Expression', value: 'MIT' },
  ];
  const report = runCheck(input);
  const support = report.rules.find((r) => r.id === 'support')!;
  assert.equal(support.status, 'warn');
  assert.equal(report.passed, true);
  const note = support.findings.find((f) => f.path === 'record:/predicate/upstream');
  assert.match(note?.message ?? '', /declares its own license MIT, but the record says Apache-2.0/);
  // An upstream trail without a license field, or with the record's own license: no note.
  input.record!.predicate.upstream = [{ field: 'wheel METADATA License-Expression', value: 'Apache-2.0' }];
  assert.equal(runCheck(input).rules.find((r) => r.id === 'support')!.status, 'pass');
});
