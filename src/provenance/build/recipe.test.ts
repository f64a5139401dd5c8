import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseConfigText } from '../../config/load.ts';
import { WaybillError } from '../../errors.ts';
import {
  envNameProblem,
  outputPatternProblem,
  parseDuration,
  parseToolSpec,
  toolSpecProblem,
} from './recipe.ts';

const BASE = `version: 1
team:
  name: Example Release Team
help:
  bugTracker: https://bugs.example.org
`;

test('durations: seconds, 90s, 30m, 1h30m; nothing else', () => {
  assert.equal(parseDuration(90), 90);
  assert.equal(parseDuration('90'), 90);
  assert.equal(parseDuration('90s'), 90);
  assert.equal(parseDuration('30m'), 1800);
  assert.equal(parseDuration('1h30m'), 5400);
  assert.equal(parseDuration('2h'), 7200);
  for (const bad of ['', '0', 0, -5, 1.5, '1d', 'm', '30 m', '1h-2m', 'abc']) {
    assert.equal(parseDuration(bad as string | number), undefined, String(bad));
  }
});

test('fast-check: parseDuration never throws and gives a positive whole number or undefined', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.integer(), fc.double()), (v) => {
      const s = parseDuration(v);
      assert.ok(s === undefined || (Number.isSafeInteger(s) && s > 0));
    }),
  );
});

test('the env allow-list refuses what waybill sets and what injects code', () => {
  assert.equal(envNameProblem('GOFLAGS'), undefined);
  assert.equal(envNameProblem('CGO_ENABLED'), undefined);
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'SOURCE_DATE_EPOCH', 'TZ', 'LC_ALL']) {
    assert.match(envNameProblem(name) ?? '', /set by waybill/, name);
  }
  for (const name of ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES', 'BASH_ENV', 'ENV', 'IFS']) {
    assert.match(envNameProblem(name) ?? '', /run code/, name);
  }
  assert.match(envNameProblem('A-B') ?? '', /not an environment variable name/);
});

test('output patterns stay inside the build directory', () => {
  assert.equal(outputPatternProblem('dist/*.tar.gz'), undefined);
  assert.equal(outputPatternProblem('**/*.deb'), undefined);
  assert.match(outputPatternProblem('/etc/passwd') ?? '', /relative/);
  assert.match(outputPatternProblem('dist/../../x') ?? '', /\.\./);
  assert.match(outputPatternProblem('dist//x') ?? '', /empty/);
});

test('tools are program names with optional version arguments', () => {
  assert.deepEqual(parseToolSpec('go version'), { program: 'go', args: ['version'] });
  assert.deepEqual(parseToolSpec('tar'), { program: 'tar', args: ['--version'] });
  assert.match(toolSpecProblem('/usr/bin/tar') ?? '', /not a path/);
});

test('the build section loads with defaults left to the build, and each bad key names its line', () => {
  const c = parseConfigText(
    `${BASE}build:\n  commands: [make dist]\n  outputs: [dist/*.tar.gz]\n  env: [GOFLAGS]\n  timeout: 20m\n  tools: [make, go version]\n`,
    'waybill.yaml',
  );
  assert.deepEqual(c.build, {
    commands: ['make dist'],
    outputs: ['dist/*.tar.gz'],
    env: ['GOFLAGS'],
    timeout: 1200,
    tools: ['make', 'go version'],
  });
  const bad: Array<[string, RegExp]> = [
    ['  commands: [make]\n', /build\.outputs: missing/],
    ['  commands: [make]\n  outputs: [../x]\n', /build\.outputs\[0\]: expected a path or glob/],
    [
      '  commands: [make]\n  outputs: [x]\n  env: [LD_PRELOAD]\n',
      /build\.env\[0\]: expected an environment variable name/,
    ],
    ['  commands: [make]\n  outputs: [x]\n  timeout: forever\n', /build\.timeout: expected a duration/],
    ['  commands: [make]\n  outputs: [x]\n  timeout: 8d\n', /build\.timeout: expected a duration/],
    [
      '  commands: [make]\n  outputs: [x]\n  tools: [/bin/sh]\n',
      /build\.tools\[0\]: expected a program name/,
    ],
  ];
  for (const [section, pattern] of bad) {
    assert.throws(
      () => parseConfigText(`${BASE}build:\n${section}`, 'waybill.yaml'),
      (e: unknown) =>
        e instanceof WaybillError &&
        e.code === 'CONFIG' &&
        pattern.test(e.message) &&
        /^waybill\.yaml:\d+:\d+: /.test(e.message),
      section,
    );
  }
});
