import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck } from './check.ts';
import { renderText } from './render-text.ts';
import { goodInput } from './test-support.ts';

test('passing report: a check mark per guideline and the summary', () => {
  const text = renderText(runCheck(goodInput()), { color: false });
  const lines = text.trimEnd().split('\n');
  assert.match(lines[0]!, /^dist\/kolla-keystone_1\.2\.3_amd64\.deb sha256:abab/);
  assert.match(text, /^✔ 1 identity — name kolla-keystone \(record; deb Package field\)$/m);
  assert.match(text, /^✔ 7 support — license Apache-2\.0/m);
  assert.equal(lines.at(-1), '7 passed, 0 failed');
  assert.ok(!text.includes('\u001b['), 'no color codes');
});

test('failing report: message, where it looked, fix; counts warn and off', () => {
  const input = goodInput();
  input.record!.predicate.help.bugTracker = null;
  input.facts.bugTracker = undefined;
  input.facts.created = { value: '2020-01-01T00:00:00Z', field: 'deb Date' };
  input.policy.levels['signed-source'] = 'off';
  const text = renderText(runCheck(input), { color: false });
  assert.match(text, /^✘ 6 help — no bug tracker URL in the record or the artifact's own metadata$/m);
  assert.match(text, /^ {6}looked in: record:\/predicate\/help\/bugTracker$/m);
  assert.match(text, /^ {6}fix: add help\.bugTracker to waybill\.yaml or --bug-tracker$/m);
  assert.match(text, /^! 3 dates — deb Date says 2020-01-01/m);
  assert.match(text, /^– 4 signed-source — off \(by policy built-in defaults\)$/m);
  assert.equal(text.trimEnd().split('\n').at(-1), '4 passed, 1 failed, 1 warned, 1 off');
});

test('color wraps marks in ANSI codes', () => {
  const input = goodInput();
  input.record = undefined;
  const text = renderText(runCheck(input), { color: true });
  assert.ok(text.includes('\u001b[31m✘\u001b[0m 1 identity'));
});

test('values from the artifact and the record are escaped: no raw controls, no extra lines', () => {
  const input = goodInput();
  input.artifact = 'evil\n✔ 4 signed-source — verified';
  input.record!.predicate.help.bugTracker = 'ftp://x\n  \u001b[2J✔ 6 help — ok\u202e';
  input.policy.levels.dates = 'off';
  input.policy.source = '/home/u/.config/waybill/policy\u001b[8m.yaml';
  const text = renderText(runCheck(input), { color: true });
  const raw = text.replace(/\u001b\[[0-9;]*m/g, '');
  assert.doesNotMatch(raw, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  assert.equal(text.split('\n').filter((l) => l.includes('signed-source')).length, 2, text);
  assert.match(text, /^evil\\n✔ 4 signed-source — verified /m);
  assert.match(raw, /off \(by policy \/home\/u\/\.config\/waybill\/policy\\x1b\[8m\.yaml\)/);
  assert.ok(!text.split('\n').some((l) => l.startsWith('✔ 6 help')));
});
