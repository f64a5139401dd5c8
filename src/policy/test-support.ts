/**
 * Builders for policy tests: a release record and native facts that pass every rule, so each test
 * changes exactly the one thing it is about.
 */

import type { NativeFacts } from '../formats/facts.ts';
import type { SourceVerification } from '../provenance/source-evidence.ts';
import { PREDICATE_TYPE, type ReleaseRecord, STATEMENT_TYPE } from '../record/types.ts';
import type { CheckInput, SbomOutcome } from './types.ts';
import { defaultPolicy } from './types.ts';

export const DIGEST = `sha256:${'ab'.repeat(32)}`;
export const SBOM_DIGEST = 'cd'.repeat(32);
export const NOW = new Date('2024-06-01T12:00:00Z');

export function goodRecord(): ReleaseRecord {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: 'kolla-keystone_1.2.3_amd64.deb', digest: { sha256: DIGEST.slice(7) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      identity: { name: 'kolla-keystone', version: '1.2.3', architectures: ['amd64'] },
      manifest: {
        format: 'cyclonedx-json',
        digest: { sha256: SBOM_DIGEST },
        location: 'kolla-keystone.cdx.json',
      },
      dates: { built: '2024-05-01T10:00:00Z', published: '2024-05-02T09:30:00Z' },
      source: {
        repository: 'https://opendev.org/openstack/kolla',
        tag: 'v1.2.3',
        commit: '0123456789abcdef0123456789abcdef01234567',
        tree: '89abcdef0123456789abcdef0123456789abcdef',
        tagObject: 'fedcba9876543210fedcba9876543210fedcba98',
        signature: {
          verified: true,
          format: 'openpgp',
          signer: 'ABCD 1234 (Kolla Release <release@example.org>)',
          reason: 'good signature from a trusted key',
        },
        // The rules do not read the evidence: the caller verifies it and passes goodVerification().
        evidence: { rawTag: null, rawCommit: null },
      },
      team: { name: 'Kolla team', contact: 'kolla-release@example.org' },
      help: { bugTracker: 'https://bugs.example.org/kolla', docs: 'https://docs.example.org/kolla/' },
      support: {
        license: 'Apache-2.0',
        disclaimer: 'Provided AS IS, WITHOUT WARRANTY OF ANY KIND.',
        statement: 'The Kolla team fixes security issues in this release until 2025-05-01.',
      },
      generator: { name: 'waybill', version: '0.1.0' },
    },
  };
}

export function goodFacts(): NativeFacts {
  return {
    format: 'deb',
    hasIdentityFields: true,
    name: { value: 'kolla-keystone', field: 'deb Package field' },
    version: { value: '1.2.3', field: 'deb Version field' },
    architectures: [{ value: 'amd64', field: 'deb Architecture field' }],
    team: { value: 'Kolla team <kolla-release@example.org>', field: 'deb Maintainer field' },
    bugTracker: { value: 'https://bugs.example.org/kolla', field: 'deb Bugs field' },
    docs: { value: 'https://docs.example.org/kolla', field: 'deb Homepage field' },
    license: { value: 'Apache-2.0', field: 'deb copyright License' },
    texts: [{ value: 'Keystone container image built by the Kolla team', field: 'deb Description field' }],
  };
}

export function goodSbom(): SbomOutcome {
  return { format: 'cyclonedx-json', digestSha256: SBOM_DIGEST, components: 42 };
}

/** What the consumer's verification of goodRecord()'s evidence says when it passes. */
export function goodVerification(): SourceVerification {
  return {
    verified: true,
    reason: "tag 'v1.2.3' at commit 0123456789ab: good OpenPGP signature by trusted key ABCD1234",
    format: 'openpgp',
    signer: 'ABCD1234 (Kolla Release <release@example.org>)',
    committedAt: '2024-05-01T09:00:00Z',
    trust: 'your trust (/home/consumer/.config/waybill/policy.yaml)',
    checks: [{ id: 'signature', passed: true, detail: 'good OpenPGP signature by trusted key ABCD1234' }],
  };
}

export function goodInput(): CheckInput {
  return {
    artifact: 'dist/kolla-keystone_1.2.3_amd64.deb',
    digest: DIGEST,
    facts: goodFacts(),
    record: goodRecord(),
    sbom: goodSbom(),
    now: NOW,
    published: true,
    policy: defaultPolicy(),
    source: goodVerification(),
  };
}
