import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { defaultDisclaimer } from '../record/disclaimer.ts';
import { initConfigText, writeInitConfig, yamlScalar } from './init.ts';
import { findConfig, loadConfig, parseConfigText } from './load.ts';
import { resolveSettings } from './merge.ts';
import { CONFIG_SPEC, type FieldSpec } from './schema.ts';
import { editDistance, suggestKey } from './suggest.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MINIMAL = `version: 1
team:
  name: Example Release Team
help:
  bugTracker: https://bugs.example.org
`;

function configError(text: string, expected: string): void {
  assert.throws(
    () => parseConfigText(text, 'waybill.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof WaybillError, String(e));
      assert.equal(e.code, 'CONFIG');
      assert.equal(e.message, expected);
      return true;
    },
  );
}

test('a minimal config loads, with the default license', () => {
  const c = parseConfigText(MINIMAL, 'waybill.yaml');
  assert.deepEqual(c, {
    version: 1,
    team: { name: 'Example Release Team' },
    help: { bugTracker: 'https://bugs.example.org' },
    license: 'Apache-2.0',
  });
});

test('wrong types point at the value with line and column', () => {
  configError(
    `version: 1
team:
  name: 42
help:
  bugTracker: https://bugs.example.org
`,
    'waybill.yaml:3:9: team.name: expected a non-empty string, got 42',
  );
  configError(
    MINIMAL.replace('version: 1', 'version: 2'),
    'waybill.yaml:1:10: version: expected 1 (the only config version), got 2',
  );
  configError(
    `${MINIMAL}license: Apache 2\n`,
    'waybill.yaml:6:10: license: expected an SPDX license expression such as Apache-2.0 or "MIT OR Apache-2.0", got "Apache 2"',
  );
  configError(
    `${MINIMAL}policy:\n  rules:\n    identity: error\n`,
    'waybill.yaml:8:15: policy.rules.identity: expected one of fail, warn, off, got "error"',
  );
  configError(
    `${MINIMAL}source:\n  trustedGpgKeys:\n    - ABCD\n    - {a: 1}\n`,
    'waybill.yaml:9:7: source.trustedGpgKeys[1]: expected a non-empty string, got a mapping',
  );
  configError(
    `${MINIMAL}artifacts:\n  - name: x\n`,
    'waybill.yaml:7:5: artifacts[0].path: missing (expected a non-empty string)',
  );
  configError(
    `${MINIMAL}artifacts: dist/x.deb\n`,
    'waybill.yaml:6:12: artifacts: expected a list of artifacts ({path, name?, version?}), got "dist/x.deb"',
  );
  configError(`version: 1\nteam: {name: T}\n`, 'waybill.yaml:1:1: help: missing (expected a mapping)');
  configError(
    `version: 1\nteam:\nhelp: {bugTracker: x}\n`,
    'waybill.yaml:2:6: team: expected a mapping, got nothing',
  );
});

test('unknown keys are errors, with a suggestion when close', () => {
  configError(
    `version: 1
team:
  naem: Example Release Team
help:
  bugTracker: https://bugs.example.org
`,
    'waybill.yaml:3:3: team.naem: unknown key (did you mean "name"?)',
  );
  configError(
    MINIMAL.replace('bugTracker', 'bug_tracker'),
    'waybill.yaml:5:3: help.bug_tracker: unknown key (did you mean "bugTracker"?)',
  );
  configError(
    `${MINIMAL}policy:\n  rules:\n    signed_source: warn\n`,
    'waybill.yaml:8:5: policy.rules.signed_source: unknown key (did you mean "signed-source"?)',
  );
  configError(
    `${MINIMAL}colour: blue\n`,
    'waybill.yaml:6:1: colour: unknown key (known keys: version, name, architecture, team, help, license, disclaimer, support, source, artifacts, trust, build, policy)',
  );
  configError(
    `${MINIMAL}__proto__: {}\n`,
    'waybill.yaml:6:1: __proto__: unknown key (known keys: version, name, architecture, team, help, license, disclaimer, support, source, artifacts, trust, build, policy)',
  );
});

test('YAML syntax errors give the parser position', () => {
  configError(
    'version: 1\nteam:\n  name: [unclosed\nhelp: x\n',
    'waybill.yaml:4:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
  );
  configError(
    `${MINIMAL}team: {name: again}\n`,
    'waybill.yaml:6:1: YAML syntax error: Map keys must be unique',
  );
  configError(
    'version: 1\n---\nversion: 1\n',
    'waybill.yaml:2:1: YAML syntax error: Source contains multiple documents; please use YAML.parseAllDocuments()',
  );
  configError(
    '',
    'waybill.yaml:1:1: the file is empty; expected a mapping with at least version, team and help',
  );
  configError(
    'a: &x 1\nb: *x\n',
    'waybill.yaml:1:1: a: unknown key (known keys: version, name, architecture, team, help, license, disclaimer, support, source, artifacts, trust, build, policy)',
  );
  configError(
    `${MINIMAL}name: &n hello\ndisclaimer: *n\n`,
    'waybill.yaml:7:13: disclaimer: YAML aliases (*name) are not supported in waybill.yaml',
  );
});

test('loadConfig: missing file is NOT_FOUND, bad bytes are CONFIG', async () => {
  await assert.rejects(
    loadConfig(join(dir, 'nope.yaml')),
    (e: unknown) => e instanceof WaybillError && e.code === 'NOT_FOUND',
  );
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, Buffer.from([0x76, 0xff, 0x0a]));
  await assert.rejects(loadConfig(bad), /not valid UTF-8/);
  await assert.rejects(loadConfig(dir), (e: unknown) => e instanceof WaybillError && e.code === 'CONFIG');
  const good = join(dir, 'good.yaml');
  await writeFile(good, `\ufeff${MINIMAL}`);
  assert.equal((await loadConfig(good)).baseDir, dir);
});

test('init: the generated file loads, and every top-level key is explained', async () => {
  const sub = join(dir, 'init');
  await mkdir(sub);
  const path = await writeInitConfig(sub);
  const config = await loadConfig(path);
  assert.equal(config.team.name, 'Example Release Team');
  assert.equal(config.policy?.rules?.['signed-source'], 'fail');
  // No placeholder name that would contradict the first package stamped (a package names itself).
  assert.equal(config.name, undefined);
  assert.equal(parseConfigText(initConfigText({ name: 'hello' }), 'waybill.yaml').name, 'hello');
  const text = await readFile(path, 'utf8');
  for (const key of [
    'version',
    'name',
    'team',
    'help',
    'license',
    'disclaimer',
    'support',
    'source',
    'artifacts',
    'policy',
  ]) {
    const at = text.search(new RegExp(`^(# )?${key}:`, 'm'));
    assert.ok(at > 0, key);
    assert.match(text.slice(0, at).trimEnd().split('\n').at(-1) ?? '', /^#/, `comment above ${key}`);
  }
  // No overwrite without force; force overwrites atomically; no temp files left either way.
  await writeFile(path, '# mine\n');
  await assert.rejects(writeInitConfig(sub), (e: unknown) => e instanceof WaybillError && e.code === 'USAGE');
  assert.equal(await readFile(path, 'utf8'), '# mine\n');
  await writeInitConfig(sub, { force: true });
  assert.equal(await readFile(path, 'utf8'), initConfigText());
  assert.deepEqual(await readdir(sub), ['waybill.yaml']);
});

test('init: any team, tracker or license value survives the YAML round trip', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
      fc.webUrl(),
      (team, url) => {
        const c = parseConfigText(initConfigText({ team, bugTracker: url, contact: team }), 'waybill.yaml');
        assert.equal(c.team.name, team);
        assert.equal(c.team.contact, team);
        assert.equal(c.help.bugTracker, url);
      },
    ),
    { numRuns: 100 },
  );
  assert.equal(yamlScalar('Example Release Team'), 'Example Release Team');
  assert.equal(yamlScalar('yes'), '"yes"');
  assert.equal(yamlScalar('a: b'), '"a: b"');
});

test('findConfig: the start directory, then parents up to the git root only', async () => {
  const repo = join(dir, 'find', 'repo');
  const deep = join(repo, 'a', 'b');
  await mkdir(deep, { recursive: true });
  assert.equal(await findConfig(deep), undefined);
  // Above the git root: never found.
  await writeFile(join(dir, 'find', 'waybill.yaml'), MINIMAL);
  await mkdir(join(repo, '.git'));
  assert.equal(await findConfig(deep), undefined);
  await writeFile(join(repo, 'waybill.yaml'), MINIMAL);
  assert.equal(await findConfig(deep), join(repo, 'waybill.yaml'));
  await writeFile(join(deep, 'waybill.yaml'), MINIMAL);
  assert.equal(await findConfig(deep), join(deep, 'waybill.yaml'));
});

test('resolveSettings: flags over config over defaults', () => {
  const config = parseConfigText(
    `${MINIMAL}license: MIT
source:
  dir: ../src
  allowedSigners: signers
  trustedGpgKeys: [AAAA]
artifacts:
  - path: dist/a.deb
  - path: oci-archive:dist/img.tar
    name: img
policy:
  rules: {team: warn}
  communityPhrases: {add: [everyone made this]}
`,
    'waybill.yaml',
    '/proj/conf',
  );
  const s = resolveSettings(config, { team: 'Flag Team', version: '2.0.0', trustedGpgKey: ['BBBB'] });
  assert.equal(s.team, 'Flag Team');
  assert.equal(s.version, '2.0.0');
  assert.equal(s.license, 'MIT');
  assert.equal(s.disclaimer, defaultDisclaimer('MIT'));
  assert.match(
    s.support ?? '',
    /^Support, if any, is offered by Flag Team only, through https:\/\/bugs\.example\.org;/,
  );
  assert.equal(s.sourceDir, '/proj/src');
  assert.equal(s.allowedSigners, '/proj/conf/signers');
  assert.deepEqual(s.trustedGpgKeys, ['BBBB']);
  assert.deepEqual(s.artifacts, [
    { path: '/proj/conf/dist/a.deb', name: null, version: null },
    { path: 'oci-archive:dist/img.tar', name: 'img', version: null },
  ]);
  assert.deepEqual(s.policy, {
    levels: { team: 'warn' },
    allowedLicenses: ['Apache-2.0'],
    communityPhrases: { add: ['everyone made this'] },
  });

  const none = resolveSettings(undefined, {});
  assert.equal(none.license, 'Apache-2.0');
  assert.equal(none.disclaimer, defaultDisclaimer('Apache-2.0'));
  assert.equal(none.support, null);
  assert.equal(none.team, null);
  assert.deepEqual(none.trustedGpgKeys, []);
});

test('suggestKey and editDistance', () => {
  assert.equal(editDistance('nmae', 'name'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(suggestKey('bugtraker', ['bugTracker', 'docs']), 'bugTracker');
  assert.equal(suggestKey('xyz', ['bugTracker', 'docs']), undefined);
});

test('fast-check: config parsing of random text throws only WaybillError CONFIG', () => {
  const keys = [
    'version',
    'team',
    'name',
    'help',
    'bugTracker',
    'policy',
    'rules',
    'identity',
    ':',
    '-',
    '[',
    '{',
    '&a',
    '*a',
    '!!str',
    '\n',
    '  ',
    '#',
    '"',
    "'",
    '|',
    '>',
  ];
  const yamlish = fc
    .array(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 5 })), { maxLength: 40 })
    .map((parts) => parts.join(''));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        yamlish,
        fc.constant(MINIMAL).chain((m) => fc.nat(m.length).map((i) => m.slice(0, i))),
      ),
      (text) => {
        try {
          parseConfigText(text, 'fuzz.yaml');
        } catch (e) {
          if (!(e instanceof WaybillError)) throw e;
          assert.equal(e.code, 'CONFIG');
          assert.match(e.message, /^fuzz\.yaml(:\d+:\d+)?: /);
          assert.ok(!e.message.includes('\n'), e.message);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('docs/config.md documents every key, and its YAML examples load', async (t) => {
  const docs = new URL('../../docs/config.md', import.meta.url);
  let text: string;
  try {
    text = await readFile(docs, 'utf8');
  } catch {
    t.skip('docs/config.md not found');
    return;
  }
  const keys: string[] = [];
  const walk = (spec: FieldSpec, path: string): void => {
    if (spec.kind === 'list') walk(spec.item, `${path}[]`);
    if (spec.kind !== 'map') return;
    for (const [k, v] of Object.entries(spec.fields)) {
      const p = path ? `${path}.${k}` : k;
      keys.push(p.replace('[].', '[].'));
      walk(v, p);
    }
  };
  walk(CONFIG_SPEC, '');
  const undocumented = keys.filter((k) => {
    const last = k.split(/\.|\[\]\./).at(-1) ?? k;
    return !text.includes(`\`${k}\``) && !text.includes(`\`${last}\``) && !text.includes(`- \`${last}\``);
  });
  assert.deepEqual(undocumented, []);
  for (const [, yaml] of text.matchAll(/```yaml\n([\s\S]*?)```/g))
    parseConfigText(`${MINIMAL}${yaml}`, 'docs/config.md');
});

test('fast-check: loadConfig on random file contents throws only WaybillError CONFIG', async () => {
  const path = join(dir, 'fuzz.yaml');
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 64 })), async (content) => {
      await writeFile(path, content);
      try {
        await loadConfig(path);
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
        assert.equal(e.code, 'CONFIG');
      }
    }),
    { numRuns: 200 },
  );
});

test('policy.requireSignatures: true or false, anything else points at the value', () => {
  const c = parseConfigText(`${MINIMAL}policy:\n  requireSignatures: true\n`, 'waybill.yaml');
  assert.equal(c.policy?.requireSignatures, true);
  assert.equal(resolveSettings(c, {}).policy.requireSignatures, true);
  assert.equal(
    resolveSettings(parseConfigText(MINIMAL, 'waybill.yaml'), {}).policy.requireSignatures,
    undefined,
  );
  configError(
    `${MINIMAL}policy:\n  requireSignatures: "yes"\n`,
    'waybill.yaml:7:22: policy.requireSignatures: expected true or false, got "yes"',
  );
});
