import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../../errors.ts';
import { field, fieldAll, parseDeb822 } from './deb822.ts';

const FIXTURES = new URL('../../../../shared/fixtures/vectors/', import.meta.url).pathname;
const STATUS = `${FIXTURES}os-package-db/dpkg/syft/image-dpkg/var/lib/dpkg/status`;

test('stanzas, continuation lines, " ." empty lines, case-insensitive lookup, repeated fields', () => {
  const text = [
    'Package: a',
    'Description: short',
    ' long line one',
    ' .',
    ' long line two',
    '# a comment (deb822 control files)',
    '',
    '',
    'package: b',
    'Classifier: x',
    'Classifier: y',
    '',
  ].join('\n');
  const { stanzas } = parseDeb822(text, 't');
  assert.equal(stanzas.length, 2);
  assert.equal(field(stanzas[0]!, 'PACKAGE'), 'a');
  assert.equal(field(stanzas[0]!, 'Description'), 'short\nlong line one\n\nlong line two');
  assert.equal(field(stanzas[1]!, 'Package'), 'b');
  assert.deepEqual(fieldAll(stanzas[1]!, 'classifier'), ['x', 'y']);
  assert.equal(stanzas[1]!.line, 9);
});

test('malformed line throws MALFORMED, or is reported and its stanza skipped with onError', () => {
  const text = 'Package: a\nVersion: 1\n\nPackage: b\nthis is not a field\n\nPackage: c\n';
  assert.throws(
    () => parseDeb822(text, 'status'),
    (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED' && /line 5/.test(e.reason),
  );
  const errors: string[] = [];
  const { stanzas } = parseDeb822(text, 'status', { onError: (e) => errors.push(e.reason) });
  assert.deepEqual(
    stanzas.map((s) => field(s, 'Package')),
    ['a', 'c'],
  );
  assert.equal(errors.length, 1);
  assert.throws(() => parseDeb822(' leading continuation', 'x'), WaybillError);
});

test('headersOnly: body after the blank line; a non-header line also starts the body (email semantics)', () => {
  const r = parseDeb822('Name: x\nVersion: 1\n\nBody: not a header\n\nmore', 'METADATA', {
    headersOnly: true,
  });
  assert.equal(r.stanzas.length, 1);
  assert.equal(r.body, 'Body: not a header\n\nmore');
  const d = parseDeb822('Name: x\nSummary: <!-- html\n<!-- second line', 'PKG-INFO', { headersOnly: true });
  assert.equal(field(d.stanzas[0]!, 'Summary'), '<!-- html');
  assert.equal(d.defects.length, 1);
  assert.match(d.body, /second line/);
});

test('real dpkg status (syft fixture) parses every stanza', (t) => {
  if (!existsSync(STATUS)) return t.skip(`fixtures absent: ${STATUS}`);
  const { stanzas } = parseDeb822(readFileSync(STATUS, 'utf8'), STATUS);
  // The fixture opens with an empty "Package:" stanza (an upstream edge case), then libpam-runtime.
  assert.deepEqual(
    stanzas.map((s) => field(s, 'Package')),
    ['', 'libpam-runtime'],
  );
  assert.equal(field(stanzas[1]!, 'Version'), '1.1.8-3.6');
});

function onlyWaybillErrors(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
  }
}

test('fast-check: random text and mutated real status never throw anything but WaybillError', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), fc.boolean(), (s, headersOnly) => {
      onlyWaybillErrors(() => parseDeb822(s, 'fuzz', { headersOnly }));
      parseDeb822(s, 'fuzz', { onError: () => {} }); // tolerant mode must not throw at all
    }),
    { numRuns: 500 },
  );
  if (!existsSync(STATUS)) return t.skip('fixtures absent');
  const real = readFileSync(STATUS);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
      (edits) => {
        const b = Buffer.from(real);
        for (const [at, v] of edits) b[at] = v;
        parseDeb822(b.toString('utf8'), 'mutated', { onError: () => {} });
        onlyWaybillErrors(() => parseDeb822(b.toString('latin1'), 'mutated'));
      },
    ),
    { numRuns: 200 },
  );
});
