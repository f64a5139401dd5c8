import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import {
  compilePhrase,
  createCommunityMatcher,
  findCommunityWording,
  tokenize,
} from './community-wording.ts';

/** [text, expected quote or null for "must not flag"], with the reason the case exists. */
const CASES: [string, string | null, string][] = [
  // --- positives: the claims the guideline forbids
  [
    'Produced by the OpenStack community',
    'Produced by the OpenStack community',
    'production verb + named community',
  ],
  ['the OpenStack community', 'the OpenStack community', 'names the community'],
  ['Images from the Python community.', 'the Python community', '"the <X> community" inside a sentence'],
  ['Built by the community', 'Built by the community', 'bare community after a production verb'],
  ['produced by the community', 'produced by the community', 'lower case'],
  ['PRODUCED   BY\tTHE\nCOMMUNITY', 'PRODUCED   BY\tTHE\nCOMMUNITY', 'case and whitespace'],
  ['community-supported', 'community-supported', 'hyphenated adjective'],
  ['Community supported', 'Community supported', 'spaced adjective'],
  ['community‐supported image', 'community‐supported', 'Unicode hyphen U+2010'],
  ['community_supported', 'community_supported', 'underscore as hyphen'],
  ['Supported by the community.', 'Supported by the community', 'supported by'],
  [
    'An official OpenStack community release',
    'official OpenStack community release',
    'official … community release',
  ],
  ['the official community build for x86', 'the official community build', 'official + community build'],
  ['Community release of Keystone', 'Community release', 'community release'],
  ['Nightly community builds', 'community builds', 'community builds'],
  [
    'Maintained by the Kolla community',
    'Maintained by the Kolla community',
    'maintained by the <X> community',
  ],
  ['Released on behalf of the OpenStack community', 'on behalf of the OpenStack community', 'on behalf of'],
  ["The community's official image", "community's official", 'possessive official'],
  [
    "the OpenStack community's official release",
    "the OpenStack community's official",
    'possessive after a name',
  ],
  ['Brought to you by the community', 'Brought to you by the community', 'brought to you by'],
  ['OpenStack Community', 'OpenStack Community', 'a field that is only a community (vendor)'],
  ['Community', 'Community', 'a bare community as the whole field'],
  [
    'The OpenStack Community Developers',
    'The OpenStack Community Developers',
    'whole field: community developers',
  ],
  ['community-maintained', 'community-maintained', 'community-maintained'],
  ['A community-driven build of nova', 'community-driven', 'community-driven implies the community runs it'],
  ['The community provides support', 'community provides', 'community as the subject'],
  ['the OpenStack communities', 'the OpenStack communities', 'plural'],
  [
    'Packaged by the Open Infra Foundation community',
    'Packaged by the Open Infra Foundation community',
    'three-word name',
  ],
  ['THE OPENSTACK COMMUNITY', 'THE OPENSTACK COMMUNITY', 'all caps'],
  ['by the OpenStack-community', 'the OpenStack-community', 'hyphenated name and community form one chunk'],
  ['Ｔｈｅ ＯｐｅｎＳｔａｃｋ ｃｏｍｍｕｎｉｔｙ', 'The OpenStack community', 'full-width letters (NFKC)'],
  // --- negatives: neutral uses
  ['Kolla team', null, 'a team name'],
  ['Kolla Community Team', null, 'a team called Community Team is a team (documented decision)'],
  ['community-tools', null, 'a project named community-tools'],
  ['community-operator', null, 'a package name'],
  ['Install community-operator 1.2 from the registry', null, 'package name in prose'],
  ['openstack-community-release-tools', null, 'identifier containing the words'],
  ['see the community wiki for help', null, 'pointing at a community resource (documented decision)'],
  ['See the OpenStack community wiki for help', null, 'named community wiki'],
  ['Ask on the OpenStack community forum', null, 'community forum'],
  ['Follow the OpenStack community code of conduct', null, 'code of conduct'],
  ['https://example.org/community/', null, 'URL path'],
  ['Docs: https://wiki.openstack.org/wiki/Kolla/community and more', null, 'URL in prose'],
  ['mail community@example.org', null, 'e-mail address'],
  ['GitLab Community Edition', null, 'product tier name (documented decision)'],
  ['Built by the Kolla project', null, '"by the X project" names a project team (documented decision)'],
  ['Built by the OpenStack project', null, 'same rule for the whole project; add it via policy if wanted'],
  ['Keystone container image built by the Kolla team', null, 'the team'],
  ['Our community is welcome to file bugs', null, 'no "the <X> community" claim'],
  ['the OpenStack community. Release notes', 'the OpenStack community', 'no match spans a sentence end'],
  ['Kolla community. Release notes follow', null, 'community. Release is two sentences'],
  ['community, release notes', null, 'comma ends the phrase'],
  ['', null, 'empty'],
  ['Communityrelease', null, 'one glued word is not two'],
];

describe('community wording: phrase table', () => {
  assert.ok(CASES.length >= 40);
  for (const [text, expected, why] of CASES) {
    test(`${expected === null ? 'neutral' : 'flags'}: ${JSON.stringify(text)} — ${why}`, () => {
      const matches = findCommunityWording(text);
      if (expected === null) assert.deepEqual(matches, [], JSON.stringify(matches));
      else {
        assert.equal(matches.length, 1, JSON.stringify(matches));
        assert.equal(matches[0]!.quote, expected.normalize('NFKC'));
      }
    });
  }
});

describe('community wording: tokenizer', () => {
  test('chunks, possessives, boundaries and blanked locations', () => {
    const { tokens } = tokenize("The community's x-y. z https://a/b q");
    assert.deepEqual(
      tokens.map((t) => [t.word, t.boundaryBefore, t.firstInChunk, t.lastInChunk]),
      [
        ['the', false, true, true],
        ['community', false, true, true],
        ['s', false, true, true],
        ['x', false, true, false],
        ['y', false, false, true],
        ['z', true, true, true],
        ['q', true, true, true],
      ],
    );
  });
});

describe('community wording: policy phrases', () => {
  test('add matches with the same normalization', () => {
    const m = createCommunityMatcher({ add: ['Acme-Collective'] });
    assert.equal(m.find('made by the acme collective')[0]?.quote, 'acme collective');
    assert.equal(m.find('ACME_COLLECTIVE')[0]?.quote, 'ACME_COLLECTIVE');
    assert.equal(m.find('the OpenStack community').length, 1, 'defaults stay');
  });
  test('replace drops the defaults', () => {
    const m = createCommunityMatcher({ replace: ['by the <X> project'] });
    assert.equal(m.find('the OpenStack community').length, 0);
    assert.equal(m.find('Built by the OpenStack project')[0]?.quote, 'by the OpenStack project');
  });
  test('syntax: alternatives, optional, gap, negative lookahead, anchors', () => {
    const m = createCommunityMatcher({ replace: ['^ [the] acme|acmecorp ... collective !wiki $'] });
    assert.equal(m.find('The acme big happy collective').length, 1);
    assert.equal(m.find('acmecorp collective').length, 1);
    assert.equal(m.find('so acme collective').length, 0, '^');
    assert.equal(m.find('acme collective wiki').length, 0, '$ and !');
  });
  test('malformed phrases are CONFIG errors', () => {
    for (const bad of [
      '',
      '   ',
      '[the]',
      'a|b c|',
      '$ community',
      'community ^',
      '<X>',
      '!wiki',
      'a|two-words',
      '[a|b-c]',
    ]) {
      assert.throws(
        () => compilePhrase(bad),
        (e: unknown) => e instanceof WaybillError && e.code === 'CONFIG',
        JSON.stringify(bad),
      );
    }
  });
});

describe('community wording: properties', () => {
  test('never throws on any string, quotes come from the text', () => {
    const m = createCommunityMatcher();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
        for (const match of m.find(s)) assert.ok(s.normalize('NFKC').includes(match.quote));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('the', 'community', '-', "'s", 'by', 'official', '.', 'built', 'x', ' ', '/'),
          {
            maxLength: 30,
          },
        ),
        (parts) => {
          m.find(parts.join(''));
          m.find(parts.join(' '));
        },
      ),
      { numRuns: 500 },
    );
  });

  // Words with no role in any phrase: adding them around a claim cannot hide it.
  const UNRELATED = [
    'image',
    'stable',
    'daily',
    'linux',
    'server',
    'quickly',
    'green',
    'deploy',
    'version',
    'x86',
  ];
  const POSITIVES = CASES.filter(
    ([text, expected]) =>
      expected !== null && !/^(OpenStack Community|Community|The OpenStack Community Developers)$/.test(text),
  ).map(([text]) => text);

  test('adding unrelated words around a positive phrase keeps it positive', () => {
    const m = createCommunityMatcher();
    fc.assert(
      fc.property(
        fc.constantFrom(...POSITIVES),
        fc.array(fc.constantFrom(...UNRELATED), { maxLength: 5 }),
        fc.array(fc.constantFrom(...UNRELATED), { maxLength: 5 }),
        (text, before, after) => {
          const padded = [...before, text, ...after].join(' ');
          assert.ok(m.find(padded).length >= 1, padded);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a long hostile text stays fast', () => {
    const text = 'the community '.repeat(5000) + 'official '.repeat(5000);
    const started = performance.now();
    findCommunityWording(text);
    assert.ok(performance.now() - started < 2000);
  });
});
