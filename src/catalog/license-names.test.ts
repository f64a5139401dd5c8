import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isValidSpdxExpression } from '../sbom/license.ts';
import {
  declaredLicense,
  recognisedLicense,
  spdxForLicenseName,
  spdxForLicenseUrl,
} from './license-names.ts';

test('license titles as POMs and manifests write them map to SPDX ids', () => {
  const cases: Array<[string, string]> = [
    ['The Apache Software License, Version 2.0', 'Apache-2.0'],
    ['Apache License, Version 2.0', 'Apache-2.0'],
    ['Apache License 2.0', 'Apache-2.0'],
    ['Apache 2', 'Apache-2.0'],
    ['ASL 2.0', 'Apache-2.0'],
    ['apache-2.0', 'Apache-2.0'],
    ['MIT License', 'MIT'],
    ['The MIT License', 'MIT'],
    ['The MIT License (MIT)', 'MIT'],
    ['Eclipse Public License - v 2.0', 'EPL-2.0'],
    ['Eclipse Public License - v 1.0', 'EPL-1.0'],
    ['Eclipse Public License v2.0', 'EPL-2.0'],
    ['Eclipse Distribution License - v 1.0', 'BSD-3-Clause'],
    ['BSD-3-Clause', 'BSD-3-Clause'],
    ['The BSD 3-Clause License', 'BSD-3-Clause'],
    ['New BSD License', 'BSD-3-Clause'],
    ['Simplified BSD License', 'BSD-2-Clause'],
    ['Mozilla Public License Version 2.0', 'MPL-2.0'],
    ['Common Development and Distribution License (CDDL) v1.0', 'CDDL-1.0'],
    ['GNU Lesser General Public License, Version 2.1', 'LGPL-2.1-only'],
    ['GNU Lesser General Public License v2.1 or later', 'LGPL-2.1-or-later'],
    ['GNU General Public License v2 or later', 'GPL-2.0-or-later'],
    ['GNU General Public License, version 3', 'GPL-3.0-only'],
    ['GPLv3+', 'GPL-3.0-or-later'],
    ['GPL-2.0', 'GPL-2.0-only'],
    ['LGPL 2.1 or later', 'LGPL-2.1-or-later'],
    ['GNU Affero General Public License v3', 'AGPL-3.0-only'],
    ['The Unlicense', 'Unlicense'],
    [
      'EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0',
      'EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0',
    ],
  ];
  for (const [name, id] of cases) assert.equal(spdxForLicenseName(name), id, name);
});

test('names that do not say one license are not given an id', () => {
  for (const name of [
    'BSD License', // 2, 3 or 4 clauses?
    'GPL', // which version?
    'LGPL',
    'GNU General Public License, version 2, with the Classpath Exception',
    'CDDL + GPLv2 with classpath exception',
    'Public Domain',
    'Bouncy Castle Licence',
    'Apache License', // no version
    'The MIT License (Apache-2.0)', // contradicts itself
    'GPL-7.0',
    'LicenseRef-foo OR MIT',
    '',
  ])
    assert.equal(spdxForLicenseName(name), undefined, name);
});

test('URLs of license texts map to SPDX ids; others do not', () => {
  const cases: Array<[string, string | undefined]> = [
    ['https://www.apache.org/licenses/LICENSE-2.0.txt', 'Apache-2.0'],
    ['http://www.apache.org/licenses/LICENSE-2.0', 'Apache-2.0'],
    ['http://www.apache.org/licenses/LICENSE-2.0.html', 'Apache-2.0'],
    ['https://opensource.org/licenses/MIT', 'MIT'],
    ['http://www.opensource.org/licenses/mit-license.php', 'MIT'],
    ['https://opensource.org/licenses/BSD-3-Clause', 'BSD-3-Clause'],
    ['https://www.eclipse.org/legal/epl-2.0/', 'EPL-2.0'],
    ['http://www.eclipse.org/legal/epl-v10.html', 'EPL-1.0'],
    ['https://www.gnu.org/licenses/lgpl-2.1.html', 'LGPL-2.1-only'],
    ['http://www.gnu.org/licenses/old-licenses/gpl-2.0.html', 'GPL-2.0-only'],
    ['https://www.gnu.org/licenses/gpl-3.0.en.html', 'GPL-3.0-only'],
    ['https://spdx.org/licenses/MIT.html', 'MIT'],
    ['https://www.mozilla.org/MPL/2.0/', 'MPL-2.0'],
    ['https://www.gnu.org/licenses/gpl.html', undefined], // no version
    ['http://www.bouncycastle.org/licence.html', undefined],
    ['https://opensource.org/licenses/not-a-license', undefined],
    ['ftp://example.org/LICENSE', undefined],
  ];
  for (const [url, id] of cases) assert.equal(spdxForLicenseUrl(url), id, url);
});

test('a name and a URL together: the name decides; the URL only when the name adds nothing to it', () => {
  assert.equal(
    recognisedLicense('BSD License', 'https://opensource.org/licenses/BSD-3-Clause'),
    'BSD-3-Clause',
  );
  assert.equal(
    recognisedLicense('Apache License', 'https://www.apache.org/licenses/LICENSE-2.0'),
    'Apache-2.0',
  );
  // The URL names the GPL text; the name says more (an exception, "or later"): no id.
  assert.equal(
    recognisedLicense('GPLv2 w/ CPE', 'https://www.gnu.org/licenses/old-licenses/gpl-2.0.html'),
    undefined,
  );
  assert.equal(
    recognisedLicense(
      'GPL2 with Classpath Exception',
      'https://www.gnu.org/licenses/old-licenses/gpl-2.0.html',
    ),
    undefined,
  );
  assert.equal(
    declaredLicense('GPLv2 w/ CPE', 'https://www.gnu.org/licenses/old-licenses/gpl-2.0.html'),
    'GPLv2 w/ CPE',
  );
  assert.equal(
    declaredLicense(undefined, 'http://www.bouncycastle.org/licence.html'),
    'http://www.bouncycastle.org/licence.html',
  );
  assert.equal(declaredLicense('  Bouncy   Castle Licence ', undefined), 'Bouncy Castle Licence');
  assert.equal(declaredLicense(undefined, undefined), undefined);
});

test('fast-check: any text gives a current SPDX id or expression, or nothing; never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (name, url) => {
      for (const out of [spdxForLicenseName(name), spdxForLicenseUrl(url), recognisedLicense(name, url)]) {
        if (out === undefined) continue;
        assert.doesNotMatch(out, /LicenseRef-/);
        assert.ok(isValidSpdxExpression(out), out);
      }
    }),
    { numRuns: 500 },
  );
});
