import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from './findings.ts';
import { parseVex, vexConcerns, vexVerdict } from './vex.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const finding: Finding = {
  id: 'GO-2023-1840',
  aliases: ['CVE-2023-29403'],
  severity: { rating: 'unknown', source: 'none' },
  component: { name: 'stdlib', version: '1.19.9', purl: 'pkg:golang/stdlib@1.19.9' },
  package: 'Go/stdlib',
  fixed: ['1.19.10'],
  locations: [],
  advisories: ['GO-2023-1840'],
  modified: '2024-01-01T00:00:00Z',
};

function doc(statements: unknown[], context = 'https://openvex.dev/ns/v0.2.0'): string {
  return JSON.stringify({
    '@context': context,
    '@id': 'https://example.com/vex/1',
    author: 'team',
    timestamp: '2024-01-01T00:00:00Z',
    version: 1,
    statements,
  });
}

describe('OpenVEX', () => {
  test('a timestamp nested 100 000 lists deep: one MALFORMED line, not a stack overflow (found by fuzzing)', () => {
    const text = doc([
      { vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a@1' }], status: 'fixed' },
    ]);
    const deep = text.replace(
      '"status":"fixed"',
      `"status":"fixed","timestamp":${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    );
    assert.notEqual(deep, text);
    assert.throws(
      () => parseVex(deep, 'deep.json'),
      (e: unknown) => e instanceof Error && e.message === 'deep.json: JSON nested deeper than 256 levels',
    );
    // Under that bound, a list where a date belongs is named by its type, never stringified whole.
    const list = text.replace('"status":"fixed"', '"status":"fixed","timestamp":[[["2024"]]]');
    assert.throws(
      () => parseVex(list, 'list.json'),
      (e: unknown) =>
        e instanceof Error && e.message === 'list.json: statements[0]: timestamp is not a date: a list',
    );
  });

  test('a document saved with a byte order mark reads as without (found by fuzzing)', () => {
    const text = doc([
      { vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a@1' }], status: 'fixed' },
    ]);
    assert.deepEqual(parseVex(`\uFEFF${text}`, 'bom.json'), parseVex(text, 'bom.json'));
  });

  test('a not_affected statement about the artifact (by digest) and the component suppresses by alias', () => {
    const vex = parseVex(
      doc([
        {
          vulnerability: { name: 'CVE-2023-29403' },
          products: [
            {
              '@id': `pkg:oci/app@${encodeURIComponent(DIGEST)}`,
              subcomponents: [{ '@id': 'pkg:golang/stdlib@1.19.9' }],
            },
          ],
          status: 'not_affected',
          justification: 'vulnerable_code_not_in_execute_path',
        },
      ]),
      'team.vex.json',
    );
    assert.ok(vexConcerns(vex, DIGEST, ['pkg:golang/stdlib@1.19.9']));
    assert.deepEqual(vexVerdict([vex], finding, DIGEST), {
      source: 'team.vex.json',
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
    });
    // The same statement for another component does not apply.
    assert.equal(
      vexVerdict(
        [vex],
        { ...finding, component: { ...finding.component, purl: 'pkg:golang/stdlib@1.20.0' } },
        DIGEST,
      ),
      undefined,
    );
  });

  test('v0.0.x string forms; a product purl without version covers every version; later statements win', () => {
    const vex = parseVex(
      doc(
        [
          { vulnerability: 'GO-2023-1840', products: ['pkg:golang/stdlib'], status: 'fixed' },
          {
            vulnerability: 'GO-2023-1840',
            products: ['pkg:golang/stdlib@1.19.9'],
            status: 'under_investigation',
          },
        ],
        'https://openvex.dev/ns',
      ),
      'old.json',
    );
    assert.equal(vexVerdict([vex], finding, undefined)?.status, 'under_investigation');
  });

  test("the newest statement wins (OpenVEX: statement timestamp, else the document's), not the last listed", () => {
    const at = (status: string, timestamp?: string) => ({
      vulnerability: { name: 'CVE-2023-29403' },
      products: [{ '@id': 'pkg:golang/stdlib@1.19.9' }],
      status,
      ...(status === 'not_affected' ? { justification: 'component_not_present' } : {}),
      ...(timestamp ? { timestamp } : {}),
    });
    // Inside one document (timestamp 2024-01-01): an older not_affected listed after a newer affected.
    const one = parseVex(doc([at('affected'), at('not_affected', '2023-06-01T00:00:00Z')]), 'one.json');
    assert.equal(vexVerdict([one], finding, undefined)?.status, 'affected');
    // Across documents: the newer document wins whatever the order of --vex flags.
    const newer = parseVex(
      doc([at('not_affected', '2025-01-01T00:00:00Z')]).replace('2024-01-01', '2025-01-01'),
      'newer.json',
    );
    const older = parseVex(doc([at('affected')]), 'older.json');
    assert.equal(vexVerdict([newer, older], finding, undefined)?.source, 'newer.json');
    assert.equal(vexVerdict([older, newer], finding, undefined)?.source, 'newer.json');
    assert.throws(
      () => parseVex(doc([at('fixed', 'last tuesday')]), 'x.json'),
      /x\.json: statements\[0\]: timestamp is not a date: "last tuesday"/,
    );
  });

  test('bad documents: one line naming the file', () => {
    assert.throws(() => parseVex('{', 'x.json'), /x\.json: not JSON/);
    assert.throws(() => parseVex('{"statements": []}', 'x.json'), /not an OpenVEX document/);
    assert.throws(
      () => parseVex(doc([{ vulnerability: 'CVE-1', products: ['p'], status: 'maybe' }]), 'x.json'),
      /unknown status "maybe"/,
    );
    assert.throws(() => parseVex(doc([{ products: ['p'], status: 'fixed' }]), 'x.json'), /no vulnerability/);
    const other = parseVex(
      doc([{ vulnerability: 'CVE-1', products: ['pkg:oci/other@sha256%3A00'], status: 'fixed' }]),
      'other.json',
    );
    assert.equal(vexConcerns(other, DIGEST, ['pkg:golang/stdlib@1.19.9']), false);
  });
});
