import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { emptyFacts } from '../formats/facts.ts';
import { runCheck } from './check.ts';
import { DIGEST, goodInput, SBOM_DIGEST } from './test-support.ts';
import type { CheckInput, CheckReport, RuleId, RuleResult } from './types.ts';

function rule(report: CheckReport, id: RuleId): RuleResult {
  const r = report.rules.find((x) => x.id === id);
  assert.ok(r, `rule ${id} missing`);
  return r;
}

/** Runs the check on the good input changed by `change`, and returns one rule's result. */
function check(id: RuleId, change: (input: CheckInput) => void): RuleResult {
  const input = goodInput();
  change(input);
  return rule(runCheck(input), id);
}

function assertFails(r: RuleResult, messagePart: RegExp, path?: string | RegExp): void {
  assert.equal(r.status, 'fail', JSON.stringify(r.findings, null, 1));
  const hit = r.findings.find((f) => f.severity === 'error' && messagePart.test(f.message));
  assert.ok(hit, `no error matching ${messagePart} in ${JSON.stringify(r.findings, null, 1)}`);
  if (typeof path === 'string') assert.equal(hit.path, path);
  else if (path) assert.match(hit.path, path);
}

function assertWarns(r: RuleResult, messagePart: RegExp): void {
  assert.equal(r.status, 'warn', JSON.stringify(r.findings, null, 1));
  assert.ok(
    r.findings.some((f) => f.severity === 'warning' && messagePart.test(f.message)),
    JSON.stringify(r.findings, null, 1),
  );
}

describe('runCheck report shape', () => {
  test('the good release passes all seven rules, in guideline order, each with an info finding', () => {
    const report = runCheck(goodInput());
    assert.equal(report.passed, true, JSON.stringify(report, null, 1));
    assert.deepEqual(
      report.rules.map((r) => [r.guideline, r.id, r.status]),
      [
        [1, 'identity', 'pass'],
        [2, 'manifest', 'pass'],
        [3, 'dates', 'pass'],
        [4, 'signed-source', 'pass'],
        [5, 'team', 'pass'],
        [6, 'help', 'pass'],
        [7, 'support', 'pass'],
      ],
    );
    for (const r of report.rules) {
      assert.ok(r.findings.length > 0 && r.findings.every((f) => f.severity === 'info'), r.id);
      assert.equal(typeof r.title, 'string');
    }
    assert.match(
      rule(report, 'identity').findings[1]!.message,
      /^version 1\.2\.3 \(record; deb Version field\)$/,
    );
  });

  test('JSON shape: {artifact, digest, passed, policy, rules:[{id, level, status, findings:[{message, path}]}]}', () => {
    const input = goodInput();
    input.record = undefined;
    const json = JSON.parse(JSON.stringify(runCheck(input)));
    assert.deepEqual(Object.keys(json).sort(), ['artifact', 'digest', 'passed', 'policy', 'rules']);
    assert.deepEqual(json.policy, { source: 'built-in defaults' });
    assert.equal(json.artifact, 'dist/kolla-keystone_1.2.3_amd64.deb');
    assert.equal(json.digest, DIGEST);
    assert.equal(json.passed, false);
    assert.equal(json.rules.length, 7);
    for (const r of json.rules) {
      assert.deepEqual(Object.keys(r).sort(), ['findings', 'guideline', 'id', 'level', 'status', 'title']);
      assert.equal(r.level, 'fail');
      assert.ok(['pass', 'fail', 'warn', 'off'].includes(r.status));
      for (const f of r.findings) {
        assert.equal(typeof f.message, 'string');
        assert.equal(typeof f.path, 'string');
        assert.ok(['error', 'warning', 'info'].includes(f.severity));
      }
    }
  });

  test('no record: every rule that needs it fails; help can pass on the native bug tracker', () => {
    const input = goodInput();
    input.record = undefined;
    const report = runCheck(input);
    for (const id of ['identity', 'manifest', 'dates', 'signed-source', 'support'] as const) {
      assertFails(rule(report, id), /no release record/, 'record');
    }
    assert.equal(rule(report, 'team').status, 'pass', 'native Maintainer names the team');
    assert.equal(rule(report, 'help').status, 'pass');
  });

  test('same input gives the same report (deterministic)', () => {
    assert.equal(JSON.stringify(runCheck(goodInput())), JSON.stringify(runCheck(goodInput())));
  });
});

describe('policy levels', () => {
  test('warn turns a failing rule into warn, its errors into warnings, and the check passes', () => {
    const input = goodInput();
    input.record!.predicate.help.bugTracker = null;
    input.facts.bugTracker = undefined;
    assert.equal(runCheck(input).passed, false);
    input.policy.levels.help = 'warn';
    const report = runCheck(input);
    assert.equal(report.passed, true);
    const help = rule(report, 'help');
    assert.equal(help.status, 'warn');
    assert.ok(help.findings.every((f) => f.severity !== 'error'));
  });
  test('off: status off, no findings, never fails', () => {
    const input = goodInput();
    input.record = undefined;
    input.policy.levels = Object.fromEntries(
      ['identity', 'manifest', 'dates', 'signed-source', 'support'].map((id) => [id, 'off']),
    );
    const report = runCheck(input);
    assert.equal(report.passed, true);
    assert.equal(report.rules.length, 7);
    assert.deepEqual(rule(report, 'identity'), {
      id: 'identity',
      title: 'Identity',
      guideline: 1,
      level: 'off',
      status: 'off',
      findings: [],
    });
  });
});

describe('rule 1 identity', () => {
  test('missing name / version / architecture in the record', () => {
    assertFails(
      check('identity', (i) => {
        i.record!.predicate.identity.name = null;
      }),
      /no name in the record/,
      'record:/predicate/identity/name',
    );
    assertFails(
      check('identity', (i) => {
        i.record!.predicate.identity.version = ' ';
      }),
      /no version/,
    );
    assertFails(
      check('identity', (i) => {
        i.record!.predicate.identity.architectures = [];
      }),
      /no architecture/,
    );
  });
  test('a native identity stamp writes itself (image, ELF note): the fix is the stamp flag, not the build', () => {
    const fixes = (format: string, mutate: (i: CheckInput) => void) => {
      const r = check('identity', (i) => {
        i.facts.format = format;
        mutate(i);
      });
      return r.findings
        .filter((f) => /own metadata has no/.test(f.message))
        .map((f) => `${f.path} | ${f.fix}`);
    };
    assert.deepEqual(
      fixes('elf', (i) => {
        i.facts.version = undefined;
      }),
      [
        'ELF .note.package version | pass --version when stamping: stamp writes it into the ELF .note.package version',
      ],
    );
    assert.deepEqual(
      fixes('oci-image', (i) => {
        i.facts.name = undefined;
      }),
      [
        'OCI annotation org.opencontainers.image.title | pass --name when stamping: stamp writes it into the OCI annotation org.opencontainers.image.title',
      ],
    );
    // A package's identity is its package manager's: stamp never rewrites it.
    assert.deepEqual(
      fixes('deb', (i) => {
        i.facts.version = undefined;
      }),
      ['deb Version field | set deb Version field when building the artifact'],
    );
  });
  test('record bound to another digest', () => {
    assertFails(
      check('identity', (i) => {
        i.digest = `sha256:${'ef'.repeat(32)}`;
      }),
      /not this artifact/,
    );
  });
  test('native fields missing where the format has them', () => {
    assertFails(
      check('identity', (i) => {
        i.facts.name = undefined;
      }),
      /own metadata has no name/,
      'deb Package field',
    );
    assertFails(
      check('identity', (i) => {
        i.facts.version = undefined;
      }),
      /no version/,
    );
    assertFails(
      check('identity', (i) => {
        i.facts.architectures = [];
      }),
      /no architecture/,
    );
  });
  test('native disagreement: name, version (exact), architecture', () => {
    assertFails(
      check('identity', (i) => {
        i.facts.name!.value = 'kolla-glance';
      }),
      /name differs/,
      'deb Package field',
    );
    assertFails(
      check('identity', (i) => {
        i.facts.version!.value = '1.2.3-1';
      }),
      /version differs/,
    );
    assertFails(
      check('identity', (i) => {
        i.facts.architectures[0]!.value = 'arm64';
      }),
      /architectures differ/,
    );
  });
  test('name case-insensitive; arch vocabularies normalized; PEP 503 for wheels', () => {
    assert.equal(
      check('identity', (i) => {
        i.facts.name!.value = 'Kolla-Keystone';
      }).status,
      'pass',
    );
    assert.equal(
      check('identity', (i) => {
        i.facts.architectures[0]!.value = 'x86_64';
      }).status,
      'pass',
    );
    const wheel = check('identity', (i) => {
      i.facts.format = 'wheel';
      i.facts.name!.value = 'kolla_keystone';
      i.facts.architectures = [{ value: 'manylinux_2_17_x86_64', field: 'wheel platform tag' }];
    });
    assert.equal(wheel.status, 'pass', JSON.stringify(wheel.findings));
  });
  test('multi-platform: record architectures must equal the native set', () => {
    const multi = (recorded: string[], native: string[]) =>
      check('identity', (i) => {
        i.facts.format = 'oci-image';
        i.record!.predicate.identity.architectures = recorded;
        i.facts.architectures = native.map((value) => ({ value, field: 'OCI index platform' }));
      });
    assert.equal(multi(['amd64', 'arm64'], ['arm64', 'amd64']).status, 'pass');
    assert.equal(multi(['x86_64', 'aarch64'], ['amd64', 'arm64', 'arm64']).status, 'pass');
    assertFails(multi(['amd64'], ['amd64', 'arm64']), /artifact has arm64 but the record does not/);
    assertFails(multi(['amd64', 'arm64', 's390x'], ['amd64', 'arm64']), /record lists s390x/);
  });
  test('formats without identity fields (tarball) need only the record', () => {
    const r = check('identity', (i) => {
      i.facts = emptyFacts('none');
    });
    assert.equal(r.status, 'pass');
    assert.ok(
      r.findings.some((f) =>
        f.message.startsWith('a plain file (a tarball, say) has no metadata of its own'),
      ),
      JSON.stringify(r.findings),
    );
    const box = check('identity', (i) => {
      i.facts = emptyFacts('vagrant');
    });
    assert.ok(box.findings.some((f) => f.message.startsWith('vagrant artifacts have no identity fields')));
  });
});

describe('rule 2 manifest', () => {
  test('pass says what was found', () => {
    const r = check('manifest', () => {});
    assert.match(r.findings[0]!.message, /CycloneDX JSON SBOM with 42 components/);
  });
  test('no manifest in the record', () => {
    assertFails(
      check('manifest', (i) => {
        i.record!.predicate.manifest = null;
      }),
      /names no SBOM/,
      'record:/predicate/manifest',
    );
  });
  test('SBOM not loaded / unreadable / other digest / other format / bad recorded digest', () => {
    assertFails(
      check('manifest', (i) => {
        i.sbom = undefined;
      }),
      /was not found/,
      'kolla-keystone.cdx.json',
    );
    assertFails(
      check('manifest', (i) => {
        i.sbom = { error: 'unexpected end of JSON' };
      }),
      /cannot be read: unexpected end/,
    );
    assertFails(
      check('manifest', (i) => {
        i.sbom = { format: 'cyclonedx-json', digestSha256: 'ee'.repeat(32), components: 3 };
      }),
      /record pins sha256:cdcd/,
    );
    assertFails(
      check('manifest', (i) => {
        i.sbom = { format: 'spdx-json', digestSha256: `sha256:${SBOM_DIGEST}`, components: 3 };
      }),
      /but it is SPDX JSON/,
    );
    assertFails(
      check('manifest', (i) => {
        i.record!.predicate.manifest!.digest.sha256 = 'abc';
      }),
      /not a sha256 hex/,
    );
  });
  test('empty SBOM warns', () => {
    assertWarns(
      check('manifest', (i) => {
        i.sbom = { format: 'cyclonedx-json', digestSha256: SBOM_DIGEST, components: 0 };
      }),
      /no components/,
    );
  });
});

describe('rule 3 dates', () => {
  const dates = (built: string | null, published: string | null, change?: (i: CheckInput) => void) =>
    check('dates', (i) => {
      i.record!.predicate.dates = { built, published };
      change?.(i);
    });
  test('pass, with offsets, fractions and within the 5 minute skew', () => {
    assert.equal(
      dates('2024-05-01T12:00:00+02:00', null, (i) => {
        i.published = false;
      }).status,
      'pass',
    );
    assert.equal(dates('2024-05-01T10:00:00.123Z', '2024-05-01T10:00:00.123Z').status, 'pass');
    assert.equal(dates('2024-06-01T12:04:00Z', '2024-06-01T12:04:30Z').status, 'pass');
  });
  test('built missing, not RFC 3339, or in the future', () => {
    assertFails(dates(null, null), /no build date/, 'record:/predicate/dates/built');
    assertFails(dates('2024-05-01 10:00:00', null), /not an RFC 3339/);
    assertFails(dates('2024-02-30T10:00:00Z', null), /not an RFC 3339/);
    assertFails(dates('1714557600', null), /not an RFC 3339/);
    assertFails(dates('2024-06-01T12:06:00Z', null), /in the future/);
  });
  test('published: required when publishing, RFC 3339, not before built, not in the future', () => {
    assertFails(
      dates('2024-05-01T10:00:00Z', null),
      /no publication date/,
      'record:/predicate/dates/published',
    );
    assert.equal(
      dates('2024-05-01T10:00:00Z', null, (i) => {
        i.published = undefined;
      }).status,
      'pass',
    );
    assertFails(
      dates('2024-05-01T10:00:00Z', '2024-05-02'),
      /publication date "2024-05-02" is not an RFC 3339/,
    );
    assertFails(dates('2024-05-01T10:00:00Z', '2024-05-01T09:59:59Z'), /before the build date/);
    assertFails(dates('2024-05-01T12:00:00+02:00', '2024-05-01T09:59:59Z'), /before the build date/);
    assertFails(dates('2024-05-01T10:00:00Z', '2025-01-01T00:00:00Z'), /in the future/);
  });
  test('native created date: same instant passes, different warns, unreadable warns', () => {
    const created = (value: string) => (i: CheckInput) => {
      i.facts.created = { value, field: 'OCI image config created' };
    };
    assert.equal(dates('2024-05-01T10:00:00Z', null, created('2024-05-01T12:00:00+02:00')).status, 'fail'); // published missing
    const ok = check('dates', created('2024-05-01T10:00:00Z'));
    assert.equal(ok.status, 'pass');
    assert.match(ok.findings[0]!.message, /OCI image config created/);
    assert.equal(check('dates', created('1714557600')).status, 'pass', 'rpm BUILDTIME seconds');
    assertWarns(check('dates', created('1970-01-01T00:00:00Z')), /says 1970-01-01T00:00:00.000Z/);
    assertWarns(check('dates', created('yesterday')), /cannot read/);
  });
});

describe('rule 4 signed source', () => {
  test('pass names tag, commit, signer, whose trust; the repository is the producer’s claim', () => {
    const r = check('signed-source', () => {});
    assert.match(
      r.findings[0]!.message,
      /^tag v1\.2\.3 at 0123456789abcdef.* signed \(openpgp\) by ABCD.*: verified by your trust \(\/home\/consumer/,
    );
    assert.match(
      r.findings[1]!.message,
      /^repository https:\/\/opendev\.org\/openstack\/kolla: the producer's claim/,
    );
  });
  test('no source; missing repository, tag, commit; abbreviated commit', () => {
    assertFails(
      check('signed-source', (i) => {
        i.record!.predicate.source = null;
      }),
      /names no source/,
    );
    assertFails(
      check('signed-source', (i) => {
        i.record!.predicate.source!.repository = null;
      }),
      /no source repository/,
    );
    assertFails(
      check('signed-source', (i) => {
        i.record!.predicate.source!.tag = null;
      }),
      /no source tag/,
    );
    assertFails(
      check('signed-source', (i) => {
        i.record!.predicate.source!.commit = null;
      }),
      /no source commit/,
    );
    assertFails(
      check('signed-source', (i) => {
        i.record!.predicate.source!.commit = '0123456';
      }),
      /not a full commit id/,
    );
  });
  test('the consumer’s verification: missing or failed fails, with its fix; a good one passes', () => {
    const missing = check('signed-source', (i) => {
      delete i.source;
    });
    assertFails(missing, /not verified with your trust/, 'record:/predicate/source/evidence');
    assert.match(missing.findings.find((f) => f.severity === 'error')!.fix!, /--gpg-keyring FILE/);
    const renamed = check('signed-source', (i) => {
      i.source = {
        ...i.source!,
        verified: false,
        reason: "the tag object names tag 'v1.2.3', the record says 'v9'",
        fix: 're-stamp',
        checks: [{ id: 'tag-name', passed: false, detail: 'x' }],
      };
    });
    assertFails(
      renamed,
      /does not verify with your trust: the tag object names tag/,
      'record:/predicate/source/tag',
    );
    const noTrust = check('signed-source', (i) => {
      i.source = {
        ...i.source!,
        verified: false,
        reason: 'the tag is SSH-signed and no SSH trust was given',
        format: 'ssh',
        checks: [{ id: 'signature', passed: false, detail: 'x' }],
      };
    });
    assertFails(noTrust, /no SSH trust was given/, 'record:/predicate/source/evidence/rawTag');
    assert.match(noTrust.findings.find((f) => f.severity === 'error')!.fix!, /--allowed-signers FILE/);
  });

  test('the record’s signature: a bad one fails; unsigned or unchecked fails only when required', () => {
    const failed = check('signed-source', (i) => {
      i.recordSignature = { state: 'failed', detail: 'the record differs from the signed record' };
    });
    assertFails(failed, /record's signature does not verify: the record differs/, 'record signature');
    assert.equal(check('signed-source', () => {}).status, 'pass', 'unsigned, not required');
    const required = (state: 'unsigned' | 'unchecked' | 'verified') =>
      check('signed-source', (i) => {
        i.policy.requireSignatures = true;
        i.recordSignature = { state, detail: 'x.record.sigstore.json' };
      });
    assertFails(required('unsigned'), /not signed, and your policy requires signatures/);
    assert.match(required('unsigned').findings.at(-1)!.fix!, /--key FILE or WAYBILL_KEY/);
    assertFails(required('unchecked'), /signed but its signature was not checked/);
    assert.match(required('unchecked').findings.at(-1)!.fix!, /--key PUB/);
    const ok = required('verified');
    assert.equal(ok.status, 'pass');
    assert.ok(ok.findings.some((f) => /the release record is signed: x\.record/.test(f.message)));
  });

  test('signature not verified: the recorded reason is reported', () => {
    const r = check('signed-source', (i) => {
      i.record!.predicate.source!.signature = {
        verified: false,
        format: 'ssh',
        signer: 'SHA256:xyz',
        reason: 'signer SHA256:xyz is not in allowed_signers',
      };
    });
    assertFails(
      r,
      /producer's own check of the source tag failed when it stamped: signer SHA256:xyz is not in allowed_signers/,
      'record:/predicate/source/signature',
    );
    const unsigned = check('signed-source', (i) => {
      i.record!.predicate.source!.signature = { verified: false, format: null, signer: null, reason: '' };
    });
    assertFails(unsigned, /the tag is not signed/);
  });
  test("stamp's own verdict on a dirty tree: one finding, whose fix is to commit and tag, not trust flags", () => {
    // stamp hands its own verification of the tag to the rule (app/stamp.ts producerVerification):
    // the same failure, already reported with its fix, must not come back with the trust flags' fix.
    const reason = 'worktree has uncommitted changes: .gitignore (untracked)';
    const r = check('signed-source', (i) => {
      i.record!.predicate.source!.signature = { verified: false, format: 'ssh', signer: null, reason };
      i.source = {
        ...i.source!,
        verified: false,
        reason,
        format: 'ssh',
        checks: [{ id: 'signature', passed: false, detail: reason }],
      };
    });
    const errors = r.findings.filter((f) => f.severity === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.fix!, /^commit the changes .*then tag that commit with a signed tag/);
  });
  test('native revision / repository disagreement warns; abbreviations and .git agree', () => {
    assertWarns(
      check('signed-source', (i) => {
        i.facts.revision = {
          value: 'deadbeef',
          field: 'OCI annotation org.opencontainers.image.revision',
        };
      }),
      /says deadbeef/,
    );
    assert.equal(
      check('signed-source', (i) => {
        i.facts.revision = { value: '0123456789', field: 'x' };
      }).status,
      'pass',
    );
    assert.equal(
      check('signed-source', (i) => {
        i.facts.sourceRepository = { value: 'https://OpenDev.org/openstack/kolla.git', field: 'x' };
      }).status,
      'pass',
    );
    assertWarns(
      check('signed-source', (i) => {
        i.facts.sourceRepository = { value: 'https://github.com/other/kolla', field: 'x' };
      }),
      /github.com\/other/,
    );
  });
});

describe('rule 5 team', () => {
  test('no team name anywhere', () => {
    const r = check('team', (i) => {
      i.record!.predicate.team.name = null;
      i.facts.team = undefined;
    });
    assertFails(r, /no team name/, 'record:/predicate/team/name');
    assert.match(r.findings[0]!.fix!, /team\.name/);
  });
  test('native team alone is enough', () => {
    assert.equal(
      check('team', (i) => {
        i.record!.predicate.team.name = null;
      }).status,
      'pass',
    );
  });
  test('community wording in a native text fails, quoting the text and naming the field', () => {
    const r = check('team', (i) => {
      i.facts.texts.push({
        value: 'OpenStack Community',
        field: 'OCI annotation org.opencontainers.image.vendor',
      });
    });
    assertFails(r, /"OpenStack Community"/, 'OCI annotation org.opencontainers.image.vendor');
  });
  test('community wording in record team name, contact, statement, disclaimer', () => {
    assertFails(
      check('team', (i) => {
        i.record!.predicate.team.name = 'The OpenStack Community';
      }),
      /OpenStack Community/,
      'record:/predicate/team/name',
    );
    assertFails(
      check('team', (i) => {
        i.record!.predicate.team.contact = 'on behalf of the community: a@b.org';
      }),
      /on behalf of the community/,
      'record:/predicate/team/contact',
    );
    assertFails(
      check('team', (i) => {
        i.record!.predicate.support.statement = 'Community-supported.';
      }),
      /Community-supported/,
      'record:/predicate/support/statement',
    );
    assertFails(
      check('team', (i) => {
        i.record!.predicate.support.disclaimer = 'Provided AS IS by the OpenStack community';
      }),
      /the OpenStack community/,
    );
  });
  test('policy phrases: add catches more, replace drops the defaults', () => {
    const add = check('team', (i) => {
      i.facts.texts.push({ value: 'Made by the Acme Collective', field: 'description' });
      i.policy.communityPhrases = { add: ['acme collective'] };
    });
    assertFails(add, /Acme Collective/);
    const replaced = check('team', (i) => {
      i.facts.texts.push({ value: 'OpenStack Community', field: 'vendor' });
      i.policy.communityPhrases = { replace: ['acme collective'] };
    });
    assert.equal(replaced.status, 'pass');
  });
});

describe('rule 6 help', () => {
  test('pass names both places', () => {
    assert.match(
      check('help', () => {}).findings[0]!.message,
      /bug tracker https:\/\/bugs\.example\.org\/kolla \(record; deb Bugs field\)/,
    );
  });
  test('no bug tracker anywhere', () => {
    const r = check('help', (i) => {
      i.record!.predicate.help.bugTracker = null;
      i.facts.bugTracker = undefined;
    });
    assertFails(r, /no bug tracker URL/, 'record:/predicate/help/bugTracker');
    assert.equal(r.findings[0]!.fix, 'add help.bugTracker to waybill.yaml or --bug-tracker');
  });
  test('record only or native only is enough', () => {
    assert.equal(
      check('help', (i) => {
        i.facts.bugTracker = undefined;
      }).status,
      'pass',
    );
    assert.equal(
      check('help', (i) => {
        i.record!.predicate.help.bugTracker = null;
      }).status,
      'pass',
    );
  });
  test('ftp, relative, mailto, credentials fail; http warns', () => {
    const bug = (value: string) =>
      check('help', (i) => {
        i.record!.predicate.help.bugTracker = value;
        i.facts.bugTracker = undefined;
      });
    assertFails(bug('ftp://bugs.example.org/'), /uses ftp:/);
    assertFails(bug('/bugs'), /not an absolute URL/);
    assertFails(bug('bugs.example.org'), /not an absolute URL/);
    assertFails(bug('mailto:bugs@example.org'), /uses mailto:/);
    assertWarns(bug('http://bugs.example.org/'), /uses http:/);
    assertFails(bug('https://user:pw@bugs.example.org/'), /credentials/);
    assertFails(bug('https://user:pa/ss@bugs.example.org/'), /credentials/);
    assertFails(bug('javascript:alert(1)'), /uses javascript:/);
    assertFails(bug('https://bugs.example.org/\n  signature    verified'), /control character/);
  });
  test('an unsafe docs URL fails even though docs are optional', () => {
    const docs = (value: string) =>
      check('help', (i) => {
        i.record!.predicate.help.docs = value;
        i.facts.docs = undefined;
      });
    assertFails(docs('https://deploy:token@docs.example.org/'), /docs URL .*credentials/);
    assertFails(docs('data:text/html,hi'), /uses data:/);
    assertWarns(docs('mailto:docs@example.org'), /uses mailto:/);
  });
  test('an artifact whose own bug tracker field carries credentials fails', () => {
    assertFails(
      check('help', (i) => {
        i.facts.bugTracker!.value = 'https://ci:ghp_secret@bugs.example.org/';
      }),
      /credentials/,
    );
  });
  test('record and native disagree → warn', () => {
    assertWarns(
      check('help', (i) => {
        i.facts.bugTracker!.value = 'https://github.com/x/y/issues';
      }),
      /URLs differ/,
    );
  });
  test('docs URL optional; bad docs URL only warns', () => {
    const none = check('help', (i) => {
      i.record!.predicate.help.docs = null;
      i.facts.docs = undefined;
    });
    assert.equal(none.status, 'pass');
    assertWarns(
      check('help', (i) => {
        i.record!.predicate.help.docs = 'docs/index.html';
      }),
      /docs URL .* not an absolute URL/,
    );
  });
});

describe('rule 7 support', () => {
  const support = (change: (s: CheckInput['record'] & object) => void, more?: (i: CheckInput) => void) =>
    check('support', (i) => {
      change(i.record!);
      more?.(i);
    });
  test('pass explains the license decision', () => {
    assert.match(
      check('support', () => {}).findings[0]!.message,
      /license Apache-2.0 \(record; deb copyright License\): every license/,
    );
  });
  test('license missing, invalid, not allowed', () => {
    assertFails(
      support((r) => {
        r.predicate.support.license = null;
      }),
      /no license in the record \(the artifact's deb copyright License says/,
    );
    assertFails(
      support((r) => {
        r.predicate.support.license = 'Apache 2';
      }),
      /not a valid SPDX/,
    );
    assertFails(
      support(
        (r) => {
          r.predicate.support.license = 'MIT';
        },
        (i) => {
          i.facts.license = undefined;
        },
      ),
      /MIT is not allowed/,
    );
  });
  test('AND needs all, OR needs one branch; LicenseRef valid; case-insensitive ids', () => {
    const lic = (license: string, allowed: string[]) =>
      support(
        (r) => {
          r.predicate.support.license = license;
        },
        (i) => {
          i.facts.license = undefined;
          i.policy.allowedLicenses = allowed;
        },
      );
    assertFails(
      lic('Apache-2.0 AND MIT', ['Apache-2.0']),
      /MIT is not allowed, and an AND needs every license/,
    );
    const or = lic('GPL-3.0-only OR Apache-2.0', ['Apache-2.0']);
    assert.equal(or.status, 'pass');
    assert.match(or.findings[0]!.message, /the licensee may choose Apache-2.0/);
    assertFails(lic('GPL-3.0-only OR MIT', ['Apache-2.0']), /no choice the OR offers/);
    assert.equal(lic('LicenseRef-Kolla-EULA', ['LicenseRef-Kolla-EULA']).status, 'pass');
    assert.equal(lic('apache-2.0', ['Apache-2.0']).status, 'pass');
    assert.equal(lic('Apache-2.0 WITH LLVM-exception', ['Apache-2.0']).status, 'pass');
    assert.equal(lic('GPL-2.0-or-later', ['GPL-2.0-only']).status, 'pass');
  });
  test('native license must agree', () => {
    assertFails(
      support(
        () => {},
        (i) => {
          i.facts.license = {
            value: 'MIT',
            field: 'OCI annotation org.opencontainers.image.licenses',
          };
        },
      ),
      /license differs/,
      'OCI annotation org.opencontainers.image.licenses',
    );
    assert.equal(
      support(
        (r) => {
          r.predicate.support.license = 'Apache-2.0 AND MIT';
        },
        (i) => {
          i.facts.license = { value: 'MIT AND Apache-2.0', field: 'x' };
          i.policy.allowedLicenses = ['Apache-2.0', 'MIT'];
        },
      ).status,
      'pass',
    );
    assertWarns(
      support(
        () => {},
        (i) => {
          i.facts.license = { value: 'ASL 2.0', field: 'rpm License tag' };
        },
      ),
      /not an SPDX expression/,
    );
  });
  test('disclaimer missing or not disclaiming', () => {
    assertFails(
      support((r) => {
        r.predicate.support.disclaimer = null;
      }),
      /no warranty disclaimer/,
      'record:/predicate/support/disclaimer',
    );
    assertFails(
      support((r) => {
        r.predicate.support.disclaimer = 'Enjoy!';
      }),
      /does not disclaim warranty/,
    );
    assert.equal(
      support((r) => {
        r.predicate.support.disclaimer = 'This software comes with no warranty.';
      }).status,
      'pass',
    );
  });
  test('support statement speaking for others fails; naming the team passes', () => {
    const stmt = (s: string) =>
      support((r) => {
        r.predicate.support.statement = s;
      });
    assertFails(stmt('Supported by the OpenStack Foundation.'), /on behalf of "the OpenStack Foundation"/);
    assertFails(stmt('The community provides support on the mailing list.'), /on behalf of a community/);
    assertFails(stmt('Commercially supported by Example Corp for 5 years.'), /"Example Corp"/);
    assertFails(stmt('Example Corp offers commercial support.'), /"Example Corp"/);
    assert.equal(stmt('Supported by the Kolla team until 2025.').status, 'pass');
    assert.equal(
      stmt('We provide security fixes; support is provided by us on a best-effort basis.').status,
      'pass',
    );
    assert.equal(
      support((r) => {
        r.predicate.support.statement = null;
      }).status,
      'pass',
    );
  });
});

describe('robustness', () => {
  test('any string in any field: runCheck never throws and always reports seven rules', () => {
    const str = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('', ' ', 'https://x.org/', 'MIT OR', '2024-05-01T10:00:00Z', 'the OpenStack community'),
    );
    const maybe = fc.option(str, { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          name: maybe,
          version: maybe,
          archs: fc.array(str, { maxLength: 3 }),
          built: maybe,
          published: maybe,
          license: maybe,
          disclaimer: maybe,
          statement: maybe,
          bug: maybe,
          docs: maybe,
          team: maybe,
          commit: maybe,
          nativeTexts: fc.array(str, { maxLength: 3 }),
          nativeLicense: str,
          created: str,
        }),
        (v) => {
          const input = goodInput();
          const p = input.record!.predicate;
          p.identity = { name: v.name, version: v.version, architectures: v.archs };
          p.dates = { built: v.built, published: v.published };
          p.support = { license: v.license, disclaimer: v.disclaimer, statement: v.statement };
          p.help = { bugTracker: v.bug, docs: v.docs };
          p.team.name = v.team;
          p.source!.commit = v.commit;
          input.facts.texts = v.nativeTexts.map((value) => ({ value, field: 'description' }));
          input.facts.license = { value: v.nativeLicense, field: 'license' };
          input.facts.created = { value: v.created, field: 'created' };
          input.facts.architectures = v.archs.map((value) => ({ value, field: 'arch' }));
          const report = runCheck(input);
          assert.equal(report.rules.length, 7);
          assert.equal(
            report.passed,
            report.rules.every((r) => r.status !== 'fail'),
          );
          for (const r of report.rules) {
            if (r.status === 'fail') assert.ok(r.findings.some((f) => f.severity === 'error'));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
