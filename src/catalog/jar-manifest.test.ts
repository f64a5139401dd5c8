import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bundleLicenses, manifestMainAttributes } from './jar-manifest.ts';
import { bundleDeclaredLicenses, licenseFileDeclaredLicenses, pomDeclaredLicenses } from './java-licenses.ts';

test('main attributes: continuation lines, case-insensitive names, the main section only', () => {
  const text =
    'Manifest-Version: 1.0\r\nBundle-Description: General data-binding functionality for Jackson: work\r\n s on core streaming API\r\nbundle-license: https://www.apache.org/licenses/LICENSE\r\n -2.0.txt\r\n\r\nName: x\r\nBundle-License: MIT\r\n';
  const attrs = manifestMainAttributes(text);
  assert.equal(attrs.get('bundle-license'), 'https://www.apache.org/licenses/LICENSE-2.0.txt');
  assert.equal(
    attrs.get('bundle-description'),
    'General data-binding functionality for Jackson: works on core streaming API',
  );
  assert.equal(attrs.size, 3);
});

test('Bundle-License: a URL, an SPDX expression, a title with a comma, clauses with links, <<EXTERNAL>>', () => {
  assert.deepEqual(bundleDeclaredLicenses('https://www.apache.org/licenses/LICENSE-2.0.txt'), ['Apache-2.0']);
  assert.deepEqual(bundleDeclaredLicenses('EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0'), [
    'EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0',
  ]);
  assert.deepEqual(bundleDeclaredLicenses('Apache License, Version 2.0'), ['Apache-2.0']);
  assert.deepEqual(
    bundleDeclaredLicenses(
      '"Apache License, Version 2.0";link="http://www.apache.org/licenses/LICENSE-2.0.txt", MIT',
    ),
    ['Apache-2.0', 'MIT'],
  );
  assert.deepEqual(
    bundleDeclaredLicenses(
      'http://www.eclipse.org/legal/epl-2.0, https://www.gnu.org/software/classpath/license.html, http://www.eclipse.org/org/documents/edl-v10.php',
    ),
    ['EPL-2.0', 'https://www.gnu.org/software/classpath/license.html', 'BSD-3-Clause'],
  );
  assert.deepEqual(bundleDeclaredLicenses('Foo Corp License;link=http://foo.example/license'), [
    'Foo Corp License',
  ]);
  // A comma inside an unrecognised title does not split it into made-up licenses.
  assert.deepEqual(bundleDeclaredLicenses('Foo License, Version 3'), ['Foo License, Version 3']);
  assert.deepEqual(bundleDeclaredLicenses('<<EXTERNAL>>'), []);
  assert.deepEqual(bundleDeclaredLicenses('  '), []);
});

test('several POM licenses are a choice: one OR expression when each is an SPDX id, else each as written', () => {
  const pom = (...names: string[]) =>
    `<project><licenses>${names.map((n) => `<license><name>${n}</name></license>`).join('')}</licenses></project>`;
  assert.deepEqual(pomDeclaredLicenses(pom('Apache License, Version 2.0', 'MIT License')), [
    'Apache-2.0 OR MIT',
  ]);
  assert.deepEqual(pomDeclaredLicenses(pom('Apache 2', 'Apache License, Version 2.0')), ['Apache-2.0']);
  assert.deepEqual(pomDeclaredLicenses(pom('Apache 2', 'Bouncy Castle Licence')), [
    'Apache-2.0',
    'Bouncy Castle Licence',
  ]);
  assert.deepEqual(pomDeclaredLicenses('<project><licenses/></project>'), []);
});

test('a license file counts only when it is the Apache License 2.0 text', () => {
  assert.deepEqual(
    licenseFileDeclaredLicenses(
      '\n                                 Apache License\n                           Version 2.0, January 2004\n',
    ),
    ['Apache-2.0'],
  );
  assert.deepEqual(
    licenseFileDeclaredLicenses('Copyright (c) 2020 Foo\n\nApache License\nVersion 2.0, January 2004'),
    [],
  );
});

test('fast-check: manifests and Bundle-License values never throw; names are never empty', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      manifestMainAttributes(text);
      for (const l of bundleLicenses(text, () => false)) assert.notEqual(l.name, '');
      for (const l of bundleDeclaredLicenses(text)) assert.notEqual(l.trim(), '');
    }),
    { numRuns: 500 },
  );
});

/** A header line wrapped as the JAR spec wraps it: at most 72 characters, continuations start with a space. */
function wrap(line: string): string {
  const out = [line.slice(0, 72)];
  for (let i = 72; i < line.length; i += 71) out.push(` ${line.slice(i, i + 71)}`);
  return out.join('\r\n');
}

test('fast-check: attributes written and wrapped as the JAR spec says are read back', () => {
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,20}$/);
  const value = fc.stringMatching(/^[!-~][ -~]{0,150}$/);
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n.toLowerCase(), maxLength: 8 }),
      (attrs) => {
        const text = `${attrs.map(([n, v]) => wrap(`${n}: ${v}`)).join('\r\n')}\r\n\r\nName: other\r\nX: y\r\n`;
        assert.deepEqual(
          [...manifestMainAttributes(text)],
          attrs.map(([n, v]) => [n.toLowerCase(), v]),
        );
      },
    ),
    { numRuns: 300 },
  );
});
