/**
 * End to end through the real CLI: artifacts of each kind, stamped from a repository with a signed
 * tag, pass all seven rules; the same artifacts with one fact altered fail exactly that fact's rule.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOciLayout, buildTar, writeBlob, writeLayoutIndex } from '../../src/sources/testing.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import {
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  type SshSigner,
  unsignedAnnotatedTag,
} from '../helpers/git-fixtures.ts';
import { helloStampFlags, realFiles, signedHelloRepo } from '../helpers/release-fixture.ts';

interface Report {
  artifact: string;
  digest: string;
  passed: boolean;
  rules: Array<{ id: string; status: string; findings: Array<{ message: string; path: string }> }>;
}

const RULES = ['identity', 'manifest', 'dates', 'signed-source', 'team', 'help', 'support'];

let tmp: string;
let signer: SshSigner;
let signedRepo: string;
let unsignedRepo: string;
let pristineLayout: string;
let pristineTarball: string;

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function baseFlags(repo = signedRepo): string[] {
  return helloStampFlags(repo, signer.allowedSignersFile);
}

/** The consumer's trust in the release signer: check re-verifies the tag from the record. */
function consumerTrust(): string[] {
  return ['--allowed-signers', signer.allowedSignersFile];
}

/** Flags with one replaced or removed (value undefined). */
function withFlag(flags: string[], name: string, value: string | undefined): string[] {
  const out = [...flags];
  const at = out.indexOf(name);
  if (at >= 0) out.splice(at, 2);
  if (value !== undefined) out.push(name, value);
  return out;
}

function statuses(report: Report): Record<string, string> {
  return Object.fromEntries(report.rules.map((r) => [r.id, r.status]));
}

function failing(report: Report): string[] {
  return report.rules.filter((r) => r.status === 'fail').map((r) => r.id);
}

let counter = 0;
function freshCopy(kind: 'oci' | 'file'): string {
  counter += 1;
  const target = join(tmp, `copy-${counter}${kind === 'file' ? '.tar' : ''}`);
  if (kind === 'oci') cpSync(pristineLayout, target, { recursive: true });
  else copyFileSync(pristineTarball, target);
  return target;
}

async function stampThenCheck(ref: string, flags: string[]): Promise<Report> {
  const stamped = await waybillJson<{ check: Report }>(['stamp', ref, ...flags]);
  assert.equal(stamped.code, 0, `stamp failed: ${stamped.stderr}`);
  const checked = await waybillJson<Report>(['check', ref, ...consumerTrust()]);
  assert.equal(checked.code, checked.json.passed ? 0 : 1);
  return checked.json;
}

before(async () => {
  tmp = await makeTmp('waybill-e2e-');
  signer = await makeSshSigner(tmp);
  signedRepo = await signedHelloRepo(tmp, signer);
  unsignedRepo = await makeRepo(tmp, { 'build.sh': '#!/bin/sh\necho build\n' }, { name: 'unsigned' });
  await unsignedAnnotatedTag(unsignedRepo, 'v1.2.3');
  pristineLayout = join(tmp, 'layout');
  await buildOciLayout(pristineLayout, [realFiles()], { tag: 'latest' });
  pristineTarball = join(tmp, 'hello-1.2.3.tar');
  // A plain tarball: an application with its npm dependencies (real package.json files from this
  // project's node_modules). No os-release, so it is not a system image and has no native identity.
  const projectModules = new URL('../../node_modules/', import.meta.url).pathname;
  const app: Record<string, string | Buffer> = { 'hello-1.2.3/bin/hello': '#!/bin/sh\necho hello\n' };
  for (const dep of ['ajv', 'yaml', 'commander']) {
    app[`hello-1.2.3/node_modules/${dep}/package.json`] = readFileSync(
      join(projectModules, dep, 'package.json'),
    );
  }
  writeFileSync(pristineTarball, buildTar(app));
});

after(async () => {
  if (tmp) await removeTmp(tmp);
});

describe('a well-stamped artifact passes all seven rules', () => {
  test('OCI layout', async () => {
    const dir = freshCopy('oci');
    const report = await stampThenCheck(`oci:${dir}:latest`, baseFlags());
    assert.deepEqual(Object.keys(statuses(report)), RULES);
    assert.deepEqual(failing(report), [], JSON.stringify(report, null, 2));
    assert.equal(report.passed, true);
    assert.match(report.digest, /^sha256:[0-9a-f]{64}$/);
  });

  test('plain tarball (sidecar record)', async () => {
    const file = freshCopy('file');
    // No --arch: the tarball holds no machine code, so the record says noarch.
    const report = await stampThenCheck(`file:${file}`, baseFlags());
    assert.deepEqual(failing(report), [], JSON.stringify(report, null, 2));
    assert.ok(existsSync(`${file}.waybill.json`));
    const record = JSON.parse(readFileSync(`${file}.waybill.json`, 'utf8')) as {
      predicate: { identity: { architectures: string[] } };
    };
    assert.deepEqual(record.predicate.identity.architectures, ['noarch']);
  });

  test('docker-archive and oci-archive written by skopeo', {
    skip: has('skopeo') ? false : 'skopeo is not installed',
  }, async () => {
    const dir = freshCopy('oci');
    const docker = join(tmp, 'image-docker.tar');
    const ociArchive = join(tmp, 'image-oci.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${dir}:latest`, `docker-archive:${docker}:hello:1.2.3`]);
    execFileSync('skopeo', ['copy', '-q', `oci:${dir}:latest`, `oci-archive:${ociArchive}:latest`]);
    for (const ref of [`docker-archive:${docker}`, `oci-archive:${ociArchive}:latest`]) {
      const report = await stampThenCheck(ref, baseFlags());
      assert.deepEqual(failing(report), [], `${ref}: ${JSON.stringify(report, null, 2)}`);
    }
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `docker-archive:${docker}`], { encoding: 'utf8' }),
    ) as {
      Labels: Record<string, string>;
    };
    assert.equal(inspected.Labels['org.opencontainers.image.version'], '1.2.3');
    assert.equal(inspected.Labels['org.opencontainers.image.vendor'], 'Example Release Team');
  });

  test('skopeo inspect shows the stamped labels and annotations', {
    skip: has('skopeo') ? false : 'skopeo is not installed',
  }, async () => {
    const dir = freshCopy('oci');
    await stampThenCheck(`oci:${dir}:latest`, baseFlags());
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci:${dir}:latest`], { encoding: 'utf8' }),
    ) as {
      Labels: Record<string, string>;
    };
    assert.equal(inspected.Labels['org.opencontainers.image.url'], 'https://bugs.example.org/hello');
    assert.equal(inspected.Labels['org.opencontainers.image.licenses'], 'Apache-2.0');
    const raw = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', `oci:${dir}:latest`], { encoding: 'utf8' }),
    ) as {
      annotations: Record<string, string>;
    };
    assert.equal(raw.annotations['org.opencontainers.image.version'], '1.2.3');
    assert.equal(raw.annotations['org.opencontainers.image.source'], 'https://git.example.org/hello.git');
  });
});

describe('a multi-platform image', () => {
  test('stamped as a whole: the index and each platform have a record and pass', async () => {
    const dir = join(tmp, 'multi');
    const amd = await buildOciLayout(dir, [realFiles()], { architecture: 'amd64', blobsOnly: true });
    const arm = await buildOciLayout(dir, [{ 'etc/os-release': readFileSync('/etc/os-release') }], {
      architecture: 'arm64',
      variant: 'v8',
      blobsOnly: true,
    });
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    };
    const indexDescriptor = await writeBlob(dir, Buffer.from(JSON.stringify(index)), index.mediaType);
    await writeLayoutIndex(dir, [
      { ...indexDescriptor, annotations: { 'org.opencontainers.image.ref.name': 'multi' } },
    ]);
    const ref = `oci:${dir}:multi`;
    const whole = await stampThenCheck(ref, baseFlags());
    assert.deepEqual(failing(whole), [], JSON.stringify(whole, null, 2));
    for (const platform of ['linux/amd64', 'linux/arm64/v8']) {
      const one = await waybillJson<Report>(['check', ref, '--platform', platform, ...consumerTrust()]);
      assert.deepEqual(failing(one.json), [], `${platform}: ${JSON.stringify(one.json, null, 2)}`);
      assert.notEqual(one.json.digest, whole.digest);
    }
    if (has('skopeo')) {
      const inspected = JSON.parse(
        execFileSync(
          'skopeo',
          ['inspect', '--override-arch', 'arm64', '--override-variant', 'v8', `oci:${dir}:multi`],
          {
            encoding: 'utf8',
          },
        ),
      ) as { Labels: Record<string, string>; Architecture: string };
      assert.equal(inspected.Architecture, 'arm64');
      assert.equal(inspected.Labels['org.opencontainers.image.version'], '1.2.3');
    }
  });
});

describe('one fact altered fails exactly its rule', () => {
  const cases: Array<{ rule: string; flags: () => string[] }> = [
    { rule: 'identity', flags: () => withFlag(baseFlags(), '--version', undefined) },
    { rule: 'dates', flags: () => [...baseFlags(), '--built', '2999-01-01T00:00:00Z'] },
    { rule: 'signed-source', flags: () => baseFlags(unsignedRepo) },
    { rule: 'team', flags: () => withFlag(baseFlags(), '--team', 'the OpenStack community') },
    { rule: 'help', flags: () => withFlag(baseFlags(), '--bug-tracker', undefined) },
    { rule: 'support', flags: () => withFlag(baseFlags(), '--license', 'GPL-3.0-only') },
  ];
  for (const kind of ['oci', 'file'] as const) {
    for (const c of cases) {
      test(`${kind}: ${c.rule}`, async () => {
        const path = freshCopy(kind);
        const ref = kind === 'oci' ? `oci:${path}:latest` : `file:${path}`;
        const flags = kind === 'file' ? [...c.flags(), '--arch', 'noarch'] : c.flags();
        const report = await stampThenCheck(ref, flags);
        assert.deepEqual(failing(report), [c.rule], JSON.stringify(report, null, 2));
        assert.equal(report.passed, false);
      });
    }
  }

  test('file: a removed SBOM fails manifest', async () => {
    const path = freshCopy('file');
    await stampThenCheck(`file:${path}`, [...baseFlags(), '--arch', 'noarch']);
    rmSync(`${path}.cdx.json`);
    const checked = await waybillJson<Report>(['check', `file:${path}`, ...consumerTrust()]);
    assert.equal(checked.code, 1);
    assert.deepEqual(failing(checked.json), ['manifest']);
  });

  test('an artifact changed after stamping is refused: its bytes are not what the record binds', async () => {
    const path = freshCopy('file');
    const report = await stampThenCheck(`file:${path}`, [...baseFlags(), '--arch', 'noarch']);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(1024)]));
    const checked = await waybill(['check', `file:${path}`]);
    assert.equal(checked.code, 2, checked.stderr);
    assert.match(checked.stderr, new RegExp(`${path}.*expected ${report.digest}`));
  });
});

describe('policy levels and output formats', () => {
  test('a policy file lowers a failing rule to warn, and sarif lists it', async () => {
    const path = freshCopy('file');
    await stampThenCheck(`file:${path}`, [
      ...withFlag(baseFlags(), '--bug-tracker', undefined),
      '--arch',
      'noarch',
    ]);
    const policy = join(tmp, 'policy.yaml');
    writeFileSync(policy, 'rules:\n  help: warn\n');
    const lowered = await waybillJson<Report>([
      'check',
      `file:${path}`,
      '--policy',
      policy,
      ...consumerTrust(),
    ]);
    assert.equal(lowered.code, 0);
    assert.equal(statuses(lowered.json).help, 'warn');
    const sarif = await waybill(['check', `file:${path}`, '--format', 'sarif', ...consumerTrust()]);
    assert.equal(sarif.code, 1);
    const doc = JSON.parse(sarif.stdout) as {
      version: string;
      runs: Array<{ results: Array<{ ruleId: string; level: string }> }>;
    };
    assert.equal(doc.version, '2.1.0');
    assert.ok(doc.runs[0]!.results.some((r) => r.ruleId === 'help' && r.level === 'error'));
  });

  test('inspect --format json has the consumer keys', async () => {
    const path = freshCopy('file');
    await stampThenCheck(`file:${path}`, [...baseFlags(), '--arch', 'noarch']);
    const r = await waybillJson<Record<string, unknown>>(['inspect', `file:${path}`]);
    assert.equal(r.code, 0);
    for (const key of [
      'name',
      'version',
      'architecture',
      'team',
      'help',
      'license',
      'built',
      'published',
      'source',
    ]) {
      assert.ok(key in r.json, `inspect json lacks ${key}`);
    }
    const source = r.json.source as {
      repository: string;
      tag: string;
      commit: string;
      signature: { verified: boolean };
    };
    assert.equal(source.tag, 'v1.2.3');
    assert.equal(source.signature.verified, true);
    assert.equal((r.json.help as { bugTracker: string }).bugTracker, 'https://bugs.example.org/hello');
  });
});

describe('bad input gets one line and exit code 2', () => {
  test('missing artifact', async () => {
    const r = await waybill(['check', join(tmp, 'nope.tar')]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /nope\.tar/);
  });
  test('unknown transport', async () => {
    const r = await waybill(['check', 'ftp:whatever']);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  });
  test('corrupt blob in a layout', async () => {
    const dir = freshCopy('oci');
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    const manifest = JSON.parse(
      readFileSync(join(dir, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8'),
    ) as {
      layers: Array<{ digest: string }>;
    };
    const layer = join(dir, 'blobs/sha256', manifest.layers[0]!.digest.slice(7));
    const bytes = readFileSync(layer);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20]! + 1) & 0xff;
    writeFileSync(layer, bytes);
    const r = await waybill(['sbom', `oci:${dir}:latest`, '--quiet']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /digest/i);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
  test('invalid waybill.yaml names file, line and field', async () => {
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'version: 1\nteam:\n  name: 42\nhelp:\n  bugTracker: https://x.example\n');
    const r = await waybill(['check', `file:${pristineTarball}`, '--config', cfg]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:3:\d+: team\.name/);
  });
});
