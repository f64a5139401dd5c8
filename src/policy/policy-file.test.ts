import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { WaybillError } from '../errors.ts';
import { parsePolicy } from './policy-file.ts';

const isConfig = (pattern: RegExp) => (e: unknown) =>
  e instanceof WaybillError && e.code === 'CONFIG' && pattern.test(e.message);

test('absent policy is the default', () => {
  assert.deepEqual(parsePolicy(undefined), { levels: {}, allowedLicenses: ['Apache-2.0'] });
  assert.deepEqual(parsePolicy(null), { levels: {}, allowedLicenses: ['Apache-2.0'] });
});

test('a full policy from YAML', () => {
  const raw = parseYaml(`
levels:
  dates: warn
  signed-source: off
allowedLicenses: [MIT, Apache-2.0, LicenseRef-Acme]
communityPhrases:
  add: ["the Acme collective"]
`);
  assert.deepEqual(parsePolicy(raw, 'waybill.yaml', 'policy'), {
    levels: { dates: 'warn', 'signed-source': 'off' },
    allowedLicenses: ['Apache-2.0', 'LicenseRef-Acme', 'MIT'],
    communityPhrases: { add: ['the Acme collective'] },
  });
});

test('YAML 1.1 bare off (false) means off', () => {
  assert.deepEqual(parsePolicy({ levels: { team: false } }).levels, { team: 'off' });
});

test('errors name the file and key', () => {
  assert.throws(() => parsePolicy('strict', 'p.yaml'), isConfig(/^p\.yaml: the policy must be a mapping/));
  assert.throws(
    () => parsePolicy({ level: {} }, 'p.yaml', 'policy'),
    isConfig(/unknown key policy\.level \(did you mean levels\?\)/),
  );
  assert.throws(
    () => parsePolicy({ levels: { signedsource: 'warn' } }),
    isConfig(/unknown rule signedsource \(did you mean signed-source\?\)/),
  );
  assert.throws(
    () => parsePolicy({ levels: { dates: 'warning' } }),
    isConfig(/levels\.dates must be one of fail, warn, off/),
  );
  assert.throws(() => parsePolicy({ levels: ['dates'] }), isConfig(/levels must be a mapping/));
  assert.throws(() => parsePolicy({ allowedLicenses: 'MIT' }), isConfig(/allowedLicenses must be a list/));
  assert.throws(
    () => parsePolicy({ allowedLicenses: ['Apache 2'] }),
    isConfig(/allowedLicenses\[0\] "Apache 2" is not an SPDX/),
  );
  assert.throws(
    () => parsePolicy({ allowedLicenses: ['MIT OR ISC'] }),
    isConfig(/not an SPDX license identifier/),
  );
  assert.throws(() => parsePolicy({ communityPhrases: { extra: [] } }), isConfig(/communityPhrases\.extra/));
  assert.throws(
    () => parsePolicy({ communityPhrases: { add: [''] } }),
    isConfig(/add\[0\] must be a non-empty string/),
  );
  assert.throws(
    () => parsePolicy({ communityPhrases: { add: ['$ x'] } }),
    isConfig(/add\[0\]: phrase "\$ x": \$ must come last/),
  );
});

test('requireSignatures is a boolean', () => {
  assert.equal(parsePolicy({ requireSignatures: true }).requireSignatures, true);
  assert.equal(parsePolicy({ requireSignatures: false }).requireSignatures, false);
  assert.equal(parsePolicy({}).requireSignatures, undefined);
  assert.throws(
    () => parsePolicy({ requireSignatures: 'yes' }),
    isConfig(/requireSignatures must be true or false, not string "yes"/),
  );
  assert.throws(
    () => parsePolicy({ requireSignature: true }),
    isConfig(/unknown key requireSignature \(did you mean requireSignatures\?\)/),
  );
});
