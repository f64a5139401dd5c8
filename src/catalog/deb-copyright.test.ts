import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ensureFixtureImage } from '../../test/helpers/fixture-image.ts';
import { isValidSpdxExpression } from '../sbom/license.ts';
import { debCopyrightLicenses, licenseFromSynopsis, spdxForShortName } from './deb-copyright.ts';

test('DEP-5 short names map by the spec table; unknown names stay as written', () => {
  const cases: Array<[string, string | undefined]> = [
    ['GPL-2+', 'GPL-2.0-or-later'],
    ['GPL-2', 'GPL-2.0-only'],
    ['GPL-2.0+', 'GPL-2.0-or-later'],
    ['GPLv3+', 'GPL-3.0-or-later'],
    ['LGPL-2.1+', 'LGPL-2.1-or-later'],
    ['LGPL-2', 'LGPL-2.0-only'],
    ['AGPL-3', 'AGPL-3.0-only'],
    ['GFDL-NIV-1.3+', 'GFDL-1.3-no-invariants-or-later'],
    ['Expat', 'MIT'],
    ['BSD-3-clause', 'BSD-3-Clause'],
    ['Artistic', 'Artistic-1.0-Perl'],
    ['Apache-2.0', 'Apache-2.0'],
    ['zlib', 'Zlib'],
    ['CC0-1.0', 'CC0-1.0'],
    ['GPL-4', undefined],
    ['GPL', undefined],
    ['public-domain', undefined],
    ['permissive', undefined],
  ];
  for (const [name, id] of cases) assert.equal(spdxForShortName(name), id, name);
});

test('synopsis expressions: or, and, comma, with-exception; a synopsis with an unknown name is kept whole', () => {
  const cases: Array<[string, string | undefined]> = [
    ['GPL-1+ or Artistic', 'GPL-1.0-or-later OR Artistic-1.0-Perl'],
    ['BSD-3-clause and Expat', 'BSD-3-Clause AND MIT'],
    ['GPL-2+ or Artistic and MIT', 'GPL-2.0-or-later OR (Artistic-1.0-Perl AND MIT)'],
    ['GPL-2+ or Artistic, and BSD-3-clause', '(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause'],
    ['GPL-2+ with Libtool exception', 'GPL-2.0-or-later WITH Libtool-exception'],
    ['GPL-2 with Linux-syscall-note exception', 'GPL-2.0-only WITH Linux-syscall-note'],
    ['Perl', 'Artistic-1.0-Perl OR GPL-1.0-or-later'],
    ['GPL-3+ with Bison exception', 'GPL-3+ with Bison exception'],
    ['BSD-3-clause and PSF-2 and Unicode', 'BSD-3-clause and PSF-2 and Unicode'],
    ['public-domain', 'public-domain'],
    ['Permission is hereby granted, free of charge, to any person obtaining', undefined],
    ['', undefined],
  ];
  for (const [synopsis, expected] of cases) {
    const got = licenseFromSynopsis(synopsis);
    assert.equal(got, expected, synopsis);
    if (got !== undefined && got !== synopsis) assert.ok(isValidSpdxExpression(got), got);
  }
});

test('a DEP-5 file: header and Files paragraphs count, stand-alone License paragraphs only give texts', () => {
  const text = [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: x',
    '',
    'Files: *',
    'Copyright: 2020 Someone',
    'License: GPL-2+',
    ' This program is free software…',
    '',
    'Files: lib/*',
    'Copyright: 2020 Other',
    'License: Expat or GPL-2+',
    '',
    'License: Apache-2.0',
    ' Text of a license no Files paragraph uses.',
    '',
  ].join('\n');
  assert.deepEqual(debCopyrightLicenses(text), ['GPL-2.0-or-later', 'MIT OR GPL-2.0-or-later']);
});

test('free-form files: FSF notice, common-licenses references, titles; nothing invented', () => {
  const notice = `This program is free software; you can redistribute it and/or modify
it under the terms of the GNU General Public License as published by
the Free Software Foundation; either version 2 of the License, or
(at your option) any later version.
On Debian systems, the complete text of the GNU General
Public License can be found in \`/usr/share/common-licenses/GPL'.`;
  assert.deepEqual(debCopyrightLicenses(notice), ['GPL-2.0-or-later']);
  assert.deepEqual(
    debCopyrightLicenses(
      'see /usr/share/common-licenses/LGPL-2.1 and /usr/share/common-licenses/Apache-2.0.',
    ),
    ['LGPL-2.1-only', 'Apache-2.0'],
  );
  assert.deepEqual(
    debCopyrightLicenses(
      'GNU Lesser General Public License, version 2.1, or (at your option) any later version',
    ),
    ['LGPL-2.1-or-later'],
  );
  assert.deepEqual(debCopyrightLicenses('PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2\n'), ['PSF-2.0']);
  assert.deepEqual(debCopyrightLicenses('Copyright 1999 Someone. All rights reserved.\n'), []);
  assert.deepEqual(debCopyrightLicenses('see /usr/share/common-licenses/GPL for details'), []);
});

test('property: any text gives SPDX expressions or names, never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), fc.boolean(), (body, dep5) => {
      const text = dep5 ? `Format: x\n\nFiles: *\nLicense: ${body}\n` : body;
      for (const l of debCopyrightLicenses(text)) assert.ok(l.length > 0);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('GPL-2+', 'Expat', 'BSD-3-clause', 'Artistic', 'LGPL-2.1', 'Foo-1'), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.array(fc.constantFrom(' or ', ' and ', ', and ', ', or ', ', '), { minLength: 4, maxLength: 4 }),
      (names, ops) => {
        const synopsis = names.map((n, i) => (i === 0 ? n : `${ops[i - 1]}${n}`)).join('');
        const got = licenseFromSynopsis(synopsis)!;
        if (names.includes('Foo-1')) assert.equal(got, synopsis);
        else assert.ok(isValidSpdxExpression(got), `${synopsis} → ${got}`);
      },
    ),
    { numRuns: 300 },
  );
});

test('the fixture image (Debian bookworm): at least 90 % of copyright files give a license', async (t) => {
  const image = await ensureFixtureImage();
  if ('skip' in image) return t.skip(image.skip);
  const doc = join(image.rootfs, 'usr/share/doc');
  if (!existsSync(doc)) return t.skip(`${doc} absent`);
  let files = 0;
  let licensed = 0;
  for (const pkg of readdirSync(doc)) {
    const path = join(doc, pkg, 'copyright');
    if (!existsSync(path)) continue;
    files++;
    const licenses = debCopyrightLicenses(readFileSync(path, 'utf8'));
    if (licenses.length > 0) licensed++;
  }
  t.diagnostic(`${licensed} of ${files} copyright files name a license`);
  assert.ok(files > 100);
  assert.ok(licensed / files >= 0.9, `${licensed} / ${files}`);
});
