import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseOsvRecord } from './osv-record.ts';
import {
  DISTRO,
  GHSA_SAMPLE,
  GO_DB,
  haveShared,
  jsonFiles,
  OSV_SCHEMA,
  PYPA_DB,
  RUSTSEC_DB,
  readJson,
} from './test-support.ts';

const VALID = {
  id: 'GO-2024-0001',
  modified: '2024-01-02T03:04:05Z',
  affected: [
    {
      package: { ecosystem: 'Go', name: 'example.com/m' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.2.3' }] }],
    },
  ],
};

// biome-ignore lint/suspicious/noExplicitAny: the cases reach into a record to break it
type Loose = Record<string, any>;

function invalid(patch: (r: Loose) => void): string {
  const r = structuredClone(VALID) as Loose;
  patch(r);
  const parsed = parseOsvRecord(r);
  assert.equal(parsed.ok, false, JSON.stringify(r));
  return parsed.ok ? '' : parsed.reason;
}

describe('OSV records', () => {
  test('a minimal valid record is typed', () => {
    const parsed = parseOsvRecord(VALID);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.record.affected[0]?.ranges[0]?.events, [{ introduced: '0' }, { fixed: '1.2.3' }]);
    assert.deepEqual(parsed.record.aliases, []);
  });

  test('schema rules: each failure named with its path', () => {
    assert.match(
      invalid((r) => delete r.modified),
      /modified/,
    );
    assert.match(
      invalid((r) => (r.id = 'NOPE-1')),
      /prefix/,
    );
    assert.match(
      invalid((r) => (r.modified = '2024-13-01T00:00:00Z')),
      /RFC 3339/,
    );
    assert.match(
      invalid((r) => (r.extra = 1)),
      /extra: unknown top-level field/,
    );
    assert.match(
      invalid((r) => (r.affected[0].ranges[0].events = [{ fixed: '1' }])),
      /introduced/,
    );
    assert.match(
      invalid((r) => (r.affected[0].ranges[0].events = [{ introduced: '0', fixed: '1' }])),
      /exactly one/,
    );
    assert.match(
      invalid((r) => r.affected[0].ranges[0].events.push({ last_affected: '2' })),
      /mutually exclusive/,
    );
    assert.match(
      invalid((r) => (r.affected[0].ranges[0].type = 'GIT')),
      /repo/,
    );
    assert.match(
      invalid(
        (r) =>
          (r.affected[0].ranges[0] = {
            type: 'GIT',
            repo: 'x',
            events: [{ introduced: '0' }, { fixed: 'abc' }],
          }),
      ),
      /full commit hashes/,
    );
    assert.match(
      invalid((r) => (r.affected[0].package.ecosystem = 'Nope')),
      /unknown ecosystem/,
    );
    assert.match(
      invalid((r) => (r.severity = [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:X' }])),
      /not a valid CVSS_V3/,
    );
    assert.match(
      invalid((r) => {
        r.severity = [{ type: 'Ubuntu', score: 'low' }];
        r.affected[0].severity = [{ type: 'Ubuntu', score: 'low' }];
      }),
      /package-level severity/,
    );
    assert.match(
      invalid((r) => (r.references = [{ type: 'WEB', url: 'not a uri' }])),
      /not a URI/,
    );
    assert.equal(parseOsvRecord('x').ok, false);
    assert.equal(parseOsvRecord(null).ok, false);
  });

  test('every real advisory: accepted exactly when the official JSON Schema (ajv) accepts it', (t) => {
    if (!haveShared(OSV_SCHEMA, GO_DB, PYPA_DB, RUSTSEC_DB))
      return t.skip('../shared/fixtures/osv not present');
    const ajv = new Ajv2020({ strict: false });
    // ajv-formats is CommonJS: under ESM interop its function is the module's `default`.
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
      addFormatsModule) as (a: Ajv2020) => void;
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(OSV_SCHEMA, 'utf8')));
    const files = [
      GO_DB,
      PYPA_DB,
      RUSTSEC_DB,
      GHSA_SAMPLE,
      `${DISTRO}/full`,
      `${DISTRO}/website-trimmed`,
    ].flatMap(jsonFiles);
    const disagreements: string[] = [];
    let rejected = 0;
    for (const file of files) {
      const raw = readJson(file);
      const official = validate(raw) as boolean;
      const ours = parseOsvRecord(raw);
      if (!official) rejected++;
      if (official !== ours.ok)
        disagreements.push(
          `${file}: schema ${official}, waybill ${ours.ok}${ours.ok ? '' : ` (${ours.reason})`}`,
        );
    }
    assert.deepEqual(disagreements, []);
    assert.ok(files.length > 8000, `${files.length} files`);
    assert.equal(rejected, 7, 'the PyPA snapshot has 7 records with malformed GIT fixed events');
  });
});
