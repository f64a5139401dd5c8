import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { findForeignSupportClaims } from './support-wording.ts';

const TEAM = 'Kolla team';
const CASES: [string, string[]][] = [
  ['Supported by the OpenStack Foundation.', ['the OpenStack Foundation']],
  ['Commercially supported by Example Corp for three years', ['Example Corp']],
  ['Support is provided by Acme Inc and the Kolla team', ['Acme Inc and the Kolla team']],
  ['Example Corp offers commercial support', ['Example Corp']],
  ['Paid support: Example Corp provides long-term support', ['Example Corp']],
  ['Support is available from Acme', ['Acme']],
  ['Red Hat supports this release', ['Red Hat']],
  ['Supported by the Kolla team until 2025', []],
  ['Supported by Kolla.', []],
  ['The Kolla team provides security support', []],
  ['We provide support; support is provided by us', []],
  ['This release is supported until 2026', []],
  ['Supported by its maintainers on a best-effort basis', []],
  ['Support: none.', []],
];

for (const [statement, supporters] of CASES) {
  test(`support claims in ${JSON.stringify(statement)}`, () => {
    assert.deepEqual(
      findForeignSupportClaims(statement, TEAM).map((c) => c.supporter),
      supporters,
    );
  });
}

test('without a known team, any named supporter is foreign; "us" never is', () => {
  assert.deepEqual(
    findForeignSupportClaims('Supported by Kolla', null).map((c) => c.supporter),
    ['Kolla'],
  );
  assert.deepEqual(findForeignSupportClaims('Supported by us', null), []);
});

test('never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), fc.option(fc.string({ maxLength: 20 })), (s, team) => {
      findForeignSupportClaims(s, team);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.constantFrom('supported', 'support', 'by', 'provides', 'is', '.', 'Acme', 'the', 'supports'),
        {
          maxLength: 20,
        },
      ),
      (parts) => void findForeignSupportClaims(parts.join(' '), 'Acme'),
    ),
  );
});
