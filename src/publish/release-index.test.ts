import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { isWaybillError } from '../errors.ts';
import {
  emptyReleaseIndex,
  findIndexedArtifact,
  type IndexedArtifact,
  parseReleaseIndex,
  type ReleaseIndex,
  serializeReleaseIndex,
  withIndexedArtifact,
} from './release-index.ts';

const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const SCHEMA = require('../../schemas/release-index-v1.schema.json') as Record<string, unknown>;

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv, ['date-time']);
  return ajv.compile(SCHEMA);
}

const D = (c: string) => `sha256:${c.repeat(64)}`;

function artifact(file: string, digest = D('a')): IndexedArtifact {
  return {
    file,
    digest,
    size: 10,
    built: '2026-03-01T12:00:00Z',
    published: '2026-03-02T08:00:00Z',
    files: [
      { name: `${file}.waybill.json`, kind: 'record', digest: D('b'), size: 2 },
      { name: `${file}.cdx.json`, kind: 'sbom', digest: D('c'), size: 3 },
    ],
  };
}

test('versions keep publication order; artifacts and sidecars are sorted; the bytes validate', () => {
  let index = emptyReleaseIndex('hello');
  index = withIndexedArtifact(index, '1.10.0', artifact('hello-1.10.0.tar.gz'));
  index = withIndexedArtifact(index, '1.9.0', artifact('hello-1.9.0-arm64.tar.gz'));
  index = withIndexedArtifact(index, '1.9.0', artifact('hello-1.9.0-amd64.tar.gz'));
  const text = serializeReleaseIndex(index);
  const doc = JSON.parse(text) as ReleaseIndex;
  assert.deepEqual(
    doc.versions.map((v) => [v.version, v.artifacts.map((a) => a.file)]),
    [
      ['1.10.0', ['hello-1.10.0.tar.gz']],
      ['1.9.0', ['hello-1.9.0-amd64.tar.gz', 'hello-1.9.0-arm64.tar.gz']],
    ],
  );
  assert.deepEqual(
    doc.versions[0]?.artifacts[0]?.files.map((f) => f.name),
    ['hello-1.10.0.tar.gz.cdx.json', 'hello-1.10.0.tar.gz.waybill.json'],
  );
  const validate = validator();
  assert.ok(validate(doc), JSON.stringify(validate.errors));
  assert.deepEqual(parseReleaseIndex(text, 'index.json', 'hello'), index);
  assert.equal(findIndexedArtifact(index, '1.9.0', 'hello-1.9.0-amd64.tar.gz')?.digest, D('a'));
  // Replacing an entry keeps one per file.
  const replaced = withIndexedArtifact(index, '1.9.0', artifact('hello-1.9.0-amd64.tar.gz', D('e')));
  assert.equal(replaced.versions[1]?.artifacts.length, 2);
  assert.equal(findIndexedArtifact(replaced, '1.9.0', 'hello-1.9.0-amd64.tar.gz')?.digest, D('e'));
});

test('bad indexes fail with one line naming the member at fault', () => {
  const good = JSON.parse(
    serializeReleaseIndex(withIndexedArtifact(emptyReleaseIndex('hello'), '1.0', artifact('h.tgz'))),
  );
  const cases: Array<[unknown, string, RegExp]> = [
    ['not json', 'MALFORMED', /not JSON/],
    [{ ...good, kind: 'waybill.dev/release-index/v2' }, 'UNSUPPORTED', /not a release index of kind/],
    [{ versions: [] }, 'MALFORMED', /not a release index of kind .*no kind/],
    [{ ...good, name: '../etc' }, 'MALFORMED', /name: .* contains a path separator/],
    [
      { ...good, name: 'other' },
      'MALFORMED',
      /name: is "other", but the index is in the directory of "hello"/,
    ],
    [{ ...good, versions: {} }, 'MALFORMED', /versions: is not a list/],
    [
      { ...good, versions: [good.versions[0], good.versions[0]] },
      'MALFORMED',
      /versions: 1.0 is listed twice/,
    ],
  ];
  const mutate = (f: (a: Record<string, unknown>) => void) => {
    const copy = structuredClone(good);
    f(copy.versions[0].artifacts[0]);
    return copy;
  };
  cases.push(
    [
      mutate((a) => (a.digest = 'sha512:00')),
      'MALFORMED',
      /versions\[0\]\.artifacts\[0\]\.digest: is not a sha256/,
    ],
    [mutate((a) => (a.size = -1)), 'MALFORMED', /size: is not a byte count/],
    [mutate((a) => (a.published = '2026-02-30T00:00:00Z')), 'MALFORMED', /published: is not an RFC 3339/],
    [mutate((a) => (a.file = 'x\u001b[2J')), 'MALFORMED', /file: .* contains the control character \\x1b/],
    [
      mutate(
        (a) =>
          (((a.files as Array<Record<string, unknown>>)[0] as Record<string, unknown>).name = 'other.json'),
      ),
      'MALFORMED',
      /other.json is not a sidecar of h.tgz/,
    ],
    [
      mutate((a) =>
        (a.files as unknown[]).push({ name: 'h.tgz.x', kind: 'Bad Kind', digest: D('1'), size: 1 }),
      ),
      'MALFORMED',
      /kind: is not a file kind/,
    ],
  );
  for (const [doc, code, message] of cases) {
    const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
    assert.throws(
      () => parseReleaseIndex(text, 'hello/index.json', 'hello'),
      (e) => isWaybillError(e) && e.code === code && message.test(e.message) && !e.message.includes('\n'),
      `${text} → ${message}`,
    );
  }
  // Members this version does not know are ignored, so a later minor addition still reads.
  const extended = {
    ...good,
    mirrors: ['https://example.org'],
    versions: [{ ...good.versions[0], notes: 'x' }],
  };
  assert.equal(parseReleaseIndex(JSON.stringify(extended), 'i').versions[0]?.version, '1.0');
});

const segment = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+~-]{0,15}$/);
const digest = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => `sha256:${Buffer.from(b).toString('hex')}`);
const date = fc
  .integer({ min: 0, max: 4_000_000_000 })
  .map((s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z'));
const artifactArb = fc
  .record({
    file: segment,
    digest,
    size: fc.nat(),
    built: fc.option(date, { nil: null }),
    published: date,
    sidecars: fc.uniqueArray(
      fc.record({
        suffix: segment,
        kind: fc.constantFrom('record', 'sbom', 'bundle', 'rebuild-kit'),
        digest,
        size: fc.nat(),
      }),
      { selector: (s) => s.suffix, maxLength: 4 },
    ),
  })
  .map(
    (a): IndexedArtifact => ({
      file: a.file,
      digest: a.digest,
      size: a.size,
      built: a.built,
      published: a.published,
      files: a.sidecars.map((s) => ({
        name: `${a.file}.${s.suffix}`,
        kind: s.kind,
        digest: s.digest,
        size: s.size,
      })),
    }),
  );

test('property: any index built by publications serializes to valid bytes that parse back to it', () => {
  const validate = validator();
  fc.assert(
    fc.property(fc.array(fc.tuple(segment, artifactArb), { maxLength: 8 }), (steps) => {
      let index = emptyReleaseIndex('hello');
      for (const [version, a] of steps) {
        // Names in one version directory are distinct files (the publisher refuses a clash).
        const existing = index.versions.find((v) => v.version === version);
        const taken = new Set(
          existing?.artifacts
            .filter((x) => x.file !== a.file)
            .flatMap((x) => [x.file, ...x.files.map((f) => f.name)]),
        );
        if ([a.file, ...a.files.map((f) => f.name)].some((n) => taken.has(n))) continue;
        index = withIndexedArtifact(index, version, a);
      }
      const text = serializeReleaseIndex(index);
      assert.ok(validate(JSON.parse(text)), JSON.stringify(validate.errors));
      const parsed = parseReleaseIndex(text, 'index.json', 'hello');
      assert.deepEqual(parsed, index);
      assert.equal(serializeReleaseIndex(parsed), text);
    }),
    { numRuns: 200 },
  );
});

test('property: any JSON either parses or fails with one line, never a crash', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.json(),
        fc
          .jsonValue()
          .map((v) => JSON.stringify({ kind: 'waybill.dev/release-index/v1', name: 'x', versions: v })),
      ),
      (text) => {
        try {
          parseReleaseIndex(text, 'index.json');
        } catch (e) {
          assert.ok(isWaybillError(e) && !e.message.includes('\n'), String(e));
        }
      },
    ),
    { numRuns: 500 },
  );
});
