import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { debCopyrightLicenses } from './deb-copyright.ts';
import { licensesInBodies } from './license-bodies.ts';

// From Debian bookworm's python3-yaml copyright file (free text, no license named).
const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.`;

const X11_TAIL = `
Except as contained in this notice, the name of the X Consortium shall not be
used in advertising or otherwise to promote the sale, use or other dealings in
this Software without prior written authorization from the X Consortium.`;

const bsd = (
  extra: string[],
  grant = 'in source and binary forms',
) => ` Redistribution and use ${grant}, with or without
 modification, are permitted provided that the following conditions are
 met:

     * Redistributions of source code must retain the above copyright
       notice, this list of conditions and the following disclaimer.

     * Redistributions in binary form must reproduce the above
       copyright notice, this list of conditions and the following
       disclaimer in the documentation and/or other materials provided
       with the distribution.
${extra.map((c) => `\n     * ${c}\n`).join('')}
 THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
 "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES ARE DISCLAIMED.`;

const ENDORSE = `The names of the contributors may not be used to endorse or
       promote products derived from this software without specific
       prior written permission.`;
const ADVERTISING = `All advertising materials mentioning features or use of this software
       must display the following acknowledgement: This product includes software
       developed by the University of California, Berkeley and its contributors.`;

// The shape of bookworm's python3-jinja2 file: the package under the BSD text (no name), and one
// source-only file under the GPL's notice.
const JINJA2 = `This package was debianized by Piotr Ożarowski.

Copyright (c) 2009-2011 by the Jinja Team, see AUTHORS for more details.

License:

${bsd([ENDORSE])}

  ---------------------------------------------------------------

ext/jinja.el (source package only):

 This program is free software; you can redistribute it and/or
 modify it under the terms of the GNU General Public License as
 published by the Free Software Foundation; either version 2, or
 (at your option) any later version.
`;

test('license texts quoted whole: MIT, BSD 2/3/4-clause, each body on its own; variants not named', () => {
  assert.deepEqual(licensesInBodies(MIT), ['MIT']);
  assert.deepEqual(licensesInBodies(`${MIT}\n${X11_TAIL}`), [], 'X11 is another license');
  assert.deepEqual(licensesInBodies(bsd([])), ['BSD-2-Clause']);
  assert.deepEqual(licensesInBodies(bsd([ENDORSE])), ['BSD-3-Clause']);
  assert.deepEqual(licensesInBodies(bsd([ADVERTISING, ENDORSE])), ['BSD-4-Clause']);
  assert.deepEqual(licensesInBodies(bsd([ADVERTISING])), [], 'advertising without endorsement: not named');
  // python3-markupsafe's wording (the Pallets projects).
  assert.deepEqual(
    licensesInBodies(bsd([ENDORSE], 'in source and binary forms of the software as well\n as documentation')),
    ['BSD-3-Clause'],
  );
  // Two bodies in one file are told apart: the endorsement clause of the second is not the first's.
  assert.deepEqual(licensesInBodies(`${bsd([])}\n\n${MIT}\n\n${bsd([ENDORSE])}`), [
    'BSD-2-Clause',
    'MIT',
    'BSD-3-Clause',
  ]);
  // Half a text is no license.
  assert.deepEqual(licensesInBodies(MIT.slice(0, 300)), []);
  assert.deepEqual(licensesInBodies('Redistribution and use in source and binary forms is fine.'), []);
});

test('a free-form Debian copyright file gets the license it quotes, not only a side notice', () => {
  // Before: GPL-2.0-or-later alone, the license of a file that is not even in the binary package.
  assert.deepEqual(debCopyrightLicenses(JINJA2), ['GPL-2.0-or-later', 'BSD-3-Clause']);
  assert.deepEqual(debCopyrightLicenses(`Copyright (c) 2006 Kirill Simonov\n\nLicense:\n\n${MIT}\n`), [
    'MIT',
  ]);
});

test('property: a quoted text is found however it is wrapped and whatever surrounds it; nothing throws', () => {
  const rewrap = (text: string, widths: number[]) => {
    const words = text.split(/\s+/).filter(Boolean);
    const lines: string[] = [];
    let i = 0;
    for (const w of widths) {
      if (i >= words.length) break;
      lines.push(words.slice(i, i + w).join(' '));
      i += w;
    }
    if (i < words.length) lines.push(words.slice(i).join(' '));
    return lines.map((l, n) => (n % 3 === 0 ? ` ${l}` : l)).join('\n');
  };
  const noise = fc.string({ maxLength: 200 }).filter((s) => !/redistribution|permission/i.test(s));
  fc.assert(
    fc.property(
      fc.constantFrom<[string, string]>(
        [MIT, 'MIT'],
        [bsd([]), 'BSD-2-Clause'],
        [bsd([ENDORSE]), 'BSD-3-Clause'],
        [bsd([ADVERTISING, ENDORSE]), 'BSD-4-Clause'],
      ),
      fc.array(fc.integer({ min: 1, max: 14 }), { maxLength: 80 }),
      noise,
      noise,
      ([text, id], widths, before, after) => {
        assert.deepEqual(licensesInBodies(`${before}\n\n${rewrap(text, widths)}\n\n${after}`), [id]);
      },
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 2000 }), (text) => {
      for (const id of licensesInBodies(text)) assert.match(id, /^(MIT|BSD-[234]-Clause)$/);
    }),
    { numRuns: 300 },
  );
});
