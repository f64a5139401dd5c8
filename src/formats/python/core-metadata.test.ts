import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { WaybillError } from '../../errors.ts';
import {
  addField,
  getAll,
  getDescription,
  getField,
  normalizeProjectUrlLabel,
  parseCoreMetadata,
  parseProjectUrl,
  serializeCoreMetadata,
  setField,
  wellKnownLabel,
} from './core-metadata.ts';

const FIXTURES = fileURLToPath(
  new URL('../../../../shared/fixtures/vectors/python/metadata-trivy', import.meta.url),
);

/** What Python's email.parser (the reference reader pip and importlib.metadata use) makes of a file. */
function pythonParse(file: string): { headers: Array<[string, string]>; body: string } {
  const script = [
    'import sys, json, email.parser',
    'm = email.parser.Parser().parsestr(open(sys.argv[1], encoding="utf-8", newline="").read())',
    'print(json.dumps({"headers": [[k, v] for k, v in m.items()], "body": m.get_payload()}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

test('parses real METADATA / PKG-INFO files as email.parser does', (t) => {
  if (!existsSync(FIXTURES)) return t.skip(`fixtures absent: ${FIXTURES}`);
  const files = readdirSync(FIXTURES).filter((f) => /METADATA|PKG-INFO/.test(f));
  assert.ok(files.length >= 5);
  for (const f of files) {
    const path = join(FIXTURES, f);
    const ours = parseCoreMetadata(readFileSync(path), f);
    const ref = pythonParse(path);
    assert.deepEqual(
      ours.fields.map((x) => [x.name, x.value]),
      ref.headers,
      f,
    );
    assert.equal(ours.body ?? '', ref.body, `${f} body`);
  }
});

test('multiple-use fields, Project-URL and the body as Description', () => {
  const text =
    'Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nProject-URL: Bug Tracker, https://x/bugs\n' +
    'Project-URL: Docs, https://x/docs\nClassifier: A\nClassifier: B\n\nThe description.\n';
  const meta = parseCoreMetadata(text, 't');
  assert.equal(getField(meta, 'name'), 'demo');
  assert.deepEqual(getAll(meta, 'Classifier'), ['A', 'B']);
  assert.equal(getDescription(meta), 'The description.\n');
  assert.equal(serializeCoreMetadata(meta), text, 'unchanged fields keep their bytes');
  assert.deepEqual(parseProjectUrl('Bug Tracker, https://x/bugs'), {
    label: 'Bug Tracker',
    url: 'https://x/bugs',
  });
  assert.equal(wellKnownLabel('Bug Tracker'), 'issues');
  assert.equal(wellKnownLabel('Source Code'), 'source');
  assert.equal(wellKnownLabel('docs'), 'documentation');
  assert.equal(normalizeProjectUrlLabel("What's New?"), 'whatsnew');
  assert.equal(normalizeProjectUrlLabel('Change_Log'), 'changelog');
});

test('old-style Description header with |-continuations', () => {
  const meta = parseCoreMetadata(
    'Name: a\nDescription: line one\n       |line two\n       |\n       |line four\n',
    't',
  );
  assert.equal(getDescription(meta), 'line one\nline two\n\nline four');
});

test('setField / addField serialize as valid headers that Python reads back', () => {
  const meta = parseCoreMetadata('Metadata-Version: 2.1\nName: a\nVersion: 1\n\nbody\n', 't');
  setField(meta, 'Metadata-Version', '2.4');
  addField(meta, 'Project-URL', 'Issues, https://x/i');
  setField(meta, 'Maintainer', 'Team\nsecond line');
  const text = serializeCoreMetadata(meta);
  const back = parseCoreMetadata(text, 't');
  assert.equal(getField(back, 'Metadata-Version'), '2.4');
  assert.equal(getField(back, 'Maintainer'), 'Team\n        second line');
  assert.equal(back.body, 'body\n');
});

test('random bytes never throw anything but WaybillError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc.string({ maxLength: 400 }).map((s) => Buffer.from(s)),
      ),
      (bytes) => {
        try {
          const meta = parseCoreMetadata(Buffer.from(bytes), 'fuzz');
          serializeCoreMetadata(meta);
          getDescription(meta);
        } catch (e) {
          assert.ok(e instanceof WaybillError, String(e));
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('parse → serialize is the identity on header-shaped text', () => {
  const line = fc
    .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z-]{0,12}$/), fc.stringMatching(/^[ -~]{0,30}$/))
    .map(([k, v]) => `${k}: ${v.trim()}\n`);
  fc.assert(
    fc.property(fc.array(line, { maxLength: 10 }), fc.stringMatching(/^[ -~\n]{0,60}$/), (lines, body) => {
      const text = `${lines.join('')}\n${body}`;
      const meta = parseCoreMetadata(text, 'rt');
      if (lines.length > 0) assert.equal(serializeCoreMetadata(meta), body === '' ? lines.join('') : text);
    }),
  );
});
