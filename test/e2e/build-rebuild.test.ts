/**
 * End to end through the real CLI: a project with a build recipe, tagged and signed (SSH and
 * OpenPGP), built with `waybill build` into a tarball, a Debian package and an OCI image layout,
 * then rebuilt with `waybill rebuild` — reproduced bit for bit, stamping included. A recipe that
 * embeds the time is reported not reproduced with the differing entry named; untrusted tags,
 * altered kits, untrusted recipes and recipes that write outside their directory are refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { indexTarFile } from '../../src/archive/tar-reader.ts';
import { checkSlsaProvenance } from '../../src/provenance/build/slsa.ts';
import {
  buildSection,
  isolationSkip,
  makeProject,
  TARBALL_COMMANDS,
} from '../../src/provenance/build/testing.ts';
import { checkStatement } from '../../src/record/intoto.ts';
import { sha256Hex } from '../../src/util/digest.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import {
  type GpgSigner,
  makeGpgSigner,
  makeSshSigner,
  makeTmp,
  removeTmp,
  type SshSigner,
} from '../helpers/git-fixtures.ts';

/** Writes a one-layer OCI image layout deterministically: sorted tar, gzip without a timestamp, created = SOURCE_DATE_EPOCH. */
const OCI_SCRIPT = `import gzip, hashlib, io, json, os, sys, tarfile
epoch = int(os.environ["SOURCE_DATE_EPOCH"])
out = sys.argv[1]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(out + "/blobs/sha256/" + digest, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name in sorted(os.listdir("src")):
        info = t.gettarinfo("src/" + name, arcname="usr/share/hello/" + name)
        info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
        with open("src/" + name, "rb") as f:
            t.addfile(info, f)
layer_tar = raw.getvalue()
packed = io.BytesIO()
with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, compresslevel=9) as g:
    g.write(layer_tar)
created = __import__("datetime").datetime.fromtimestamp(epoch, __import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
config = {"architecture": "amd64", "os": "linux", "created": created, "config": {},
          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]}}
layer = dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", **blob(packed.getvalue()))
cfg = dict(mediaType="application/vnd.oci.image.config.v1+json", **blob(json.dumps(config, sort_keys=True).encode()))
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": [layer]}
m = dict(mediaType="application/vnd.oci.image.manifest.v1+json", **blob(json.dumps(manifest).encode()))
m["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
with open(out + "/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [m]}, f)
with open(out + "/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
`;

const DEB_COMMANDS = [
  'mkdir -p pkg/DEBIAN pkg/usr/share/hello',
  'cp src/hello.sh pkg/usr/share/hello/',
  'printf "Package: hello\\nVersion: 1.2.3\\nArchitecture: all\\nMaintainer: Example Release Team <release@example.org>\\nDescription: says hello\\n" > pkg/DEBIAN/control',
  'dpkg-deb --root-owner-group -Zxz --build pkg dist/hello_1.2.3_all.deb',
];

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let tmp: string;
let ssh: SshSigner;
let gpg: GpgSigner;
let env: NodeJS.ProcessEnv;
let n = 0;

before(async () => {
  tmp = await makeTmp('waybill-e2e-build-');
  ssh = await makeSshSigner(tmp);
  gpg = await makeGpgSigner(tmp);
  // A private HOME and TMPDIR: the outside-write watch then sees only this test's own directories.
  env = { HOME: join(tmp, 'home'), TMPDIR: join(tmp, 'tmpdir') };
  await mkdir(env.HOME as string, { recursive: true });
  await mkdir(env.TMPDIR as string, { recursive: true });
});
after(() => removeTmp(tmp));

interface BuildJson {
  ok: boolean;
  reason?: string;
  outputs: Array<{
    name: string;
    path: string;
    builtSha256: string;
    publishedSha256: string;
    provenance: { path: string };
  }>;
  kit: { path: string; sha256: string };
}

interface RebuildJson {
  reproduced: boolean;
  reason: string;
  outputs: Array<{ name: string; reproduced: boolean; differences: Array<{ path: string; aspect: string }> }>;
  verdict: { path: string };
}

function trustFlags(signer: SshSigner | GpgSigner): string[] {
  return signer.kind === 'ssh'
    ? ['--allowed-signers', signer.allowedSignersFile]
    : ['--trusted-gpg-key', signer.fingerprint];
}

function envFor(signer: SshSigner | GpgSigner): NodeJS.ProcessEnv {
  return signer.kind === 'gpg' ? { ...env, GNUPGHOME: signer.gnupgHome } : env;
}

async function project(
  commands: string[],
  outputs: string[],
  signer: SshSigner | GpgSigner,
  files: Record<string, string> = {},
) {
  return makeProject(
    tmp,
    `e${++n}`,
    buildSection({ commands, outputs, tools: ['tar', 'gzip'] }),
    signer,
    files,
  );
}

describe('deterministic recipes are reproduced bit for bit', () => {
  // The whole format matrix once (SSH); the OpenPGP case differs only in the tag check, so a tarball.
  for (const kind of ['ssh', 'gpg'] as const) {
    const formats = kind === 'ssh' ? 'tarball, deb and OCI image' : 'tarball';
    test(`${formats} from a ${kind}-signed tag: build, then rebuild exits 0`, async (t) => {
      const signer = kind === 'ssh' ? ssh : gpg;
      const all = kind === 'ssh';
      const debs = all && has('dpkg-deb');
      if (all && !debs) t.diagnostic('dpkg-deb not installed: the deb output is left out');
      const commands = [
        ...TARBALL_COMMANDS,
        ...(debs ? DEB_COMMANDS : []),
        ...(all ? ['python3 make_oci.py dist/image'] : []),
      ];
      const outputs = ['dist/hello.tar.gz', ...(all ? ['dist/image'] : []), ...(debs ? ['dist/*.deb'] : [])];
      const p = await project(commands, outputs, signer, { 'make_oci.py': OCI_SCRIPT });
      const out = join(tmp, `out-${kind}`);
      const built = await waybillJson<BuildJson>(['build', '--out', out, ...trustFlags(signer)], {
        cwd: p.repo,
        env: envFor(signer),
      });
      assert.equal(built.code, 0, JSON.stringify(built.json, null, 1) + built.stderr);
      assert.deepEqual(
        built.json.outputs.map((o) => o.name).sort(),
        ['hello.tar.gz', ...(debs ? ['hello_1.2.3_all.deb'] : []), ...(all ? ['image'] : [])].sort(),
      );
      for (const o of built.json.outputs) {
        const provenance = JSON.parse(await readFile(o.provenance.path, 'utf8'));
        assert.equal(checkSlsaProvenance(provenance), undefined);
        const subject = provenance.subject.find((s: { name: string }) => s.name === o.name);
        assert.equal(subject.digest.sha256, o.publishedSha256);
        if (o.name !== 'image') assert.equal(sha256Hex(await readFile(o.path)), o.publishedSha256);
      }
      // Stamping wrote native metadata into the deb and the image: what ships is not the recipe's raw output.
      for (const name of [...(all ? ['image'] : []), ...(debs ? ['hello_1.2.3_all.deb'] : [])]) {
        const o = built.json.outputs.find((x) => x.name === name);
        assert.notEqual(o?.builtSha256, o?.publishedSha256, `${name} was not stamped`);
      }

      const rebuilt = await waybillJson<RebuildJson>(['rebuild', built.json.kit.path, '--trust-recipe'], {
        env: envFor(signer),
      });
      assert.equal(rebuilt.code, 0, JSON.stringify(rebuilt.json, null, 1) + rebuilt.stderr);
      assert.equal(rebuilt.json.reproduced, true);
      assert.ok(rebuilt.json.outputs.every((o) => o.reproduced));
      const verdict = JSON.parse(await readFile(rebuilt.json.verdict.path, 'utf8'));
      assert.equal(checkStatement(verdict), undefined);
      assert.equal(verdict.predicate.reproduced, true);

      if (!all) return;
      // From the artifact: its kit is found next to it.
      const image = built.json.outputs.find((o) => o.name === 'image')?.path as string;
      const fromArtifact = await waybill(['rebuild', `oci:${image}:latest`, '--trust-recipe'], {
        env: envFor(signer),
      });
      assert.equal(fromArtifact.code, 0, fromArtifact.stdout + fromArtifact.stderr);
      assert.match(fromArtifact.stdout, /^reproduced +image$/m);
      assert.ok(existsSync(`${image}.rebuild.json`));
    });
  }
});

test('a recipe that embeds the time is not reproduced: exit 1 naming the entry, with a diffoscope report', async () => {
  const p = await project(
    ['mkdir -p src', 'date +%s%N > src/stamp', ...TARBALL_COMMANDS],
    ['dist/hello.tar.gz'],
    ssh,
  );
  const out = join(tmp, 'out-nondeterministic');
  const built = await waybill(['build', '--out', out, ...trustFlags(ssh)], { cwd: p.repo, env });
  assert.equal(built.code, 0, built.stderr);
  const kept = join(tmp, 'rebuilt');
  const r = await waybill(
    ['rebuild', join(out, 'hello.tar.gz'), '--trust-recipe', '--diffoscope', '--out', kept],
    { env },
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^NOT reproduced {2}hello\.tar\.gz$/m);
  assert.match(
    r.stdout,
    /^ {4}content {3}hello\.tar\.gz!\/src\/stamp: expected \d+ bytes, sha256:[0-9a-f]{64}, got \d+ bytes, sha256:[0-9a-f]{64}$/m,
  );
  assert.match(r.stdout, /^not reproduced: hello\.tar\.gz$/m);
  const verdict = JSON.parse(await readFile(join(kept, 'hello.tar.gz.rebuild.json'), 'utf8'));
  assert.equal(checkStatement(verdict), undefined);
  assert.equal(verdict.predicate.reproduced, false);
  if (has('diffoscope'))
    assert.match(await readFile(join(kept, 'hello.tar.gz.diffoscope.txt'), 'utf8'), /src\/stamp/);
});

test('an untrusted or unsigned tag is refused: exit 1 with the reason, nothing built', async () => {
  const p = await project(TARBALL_COMMANDS, ['dist/hello.tar.gz'], ssh);
  const out = join(tmp, 'out-refused');
  const other = await makeSshSigner(tmp, 'stranger@example.org', 'stranger');
  const r = await waybill(['build', '--out', out, '--allowed-signers', other.allowedSignersFile], {
    cwd: p.repo,
    env,
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^waybill: build refused: tag not verified: SSH signature is valid but key SHA256:\S+ is not in the allowed signers file$/m,
  );
  assert.equal(existsSync(join(out, 'hello.tar.gz')), false);
  const none = await waybill(['build', '--out', out], { cwd: p.repo, env });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no allowed signers file given \(--allowed-signers\)/);
});

test('a tag signed by a revoked SSH key is refused: --ssh-revocation-file, or source.sshRevocationFile', async () => {
  // The signer's own public key is a valid revocation list (ssh-keygen -r accepts plain public keys).
  const revoked = ssh.publicKey;
  const section = `${buildSection({ commands: TARBALL_COMMANDS, outputs: ['dist/hello.tar.gz'], tools: ['tar', 'gzip'] })}source:\n  sshRevocationFile: ${revoked}\n`;
  const flagged = await project(TARBALL_COMMANDS, ['dist/hello.tar.gz'], ssh);
  const configured = await makeProject(tmp, `e${++n}`, section, ssh);
  const cases: Array<[string, string[]]> = [
    [flagged.repo, ['--ssh-revocation-file', revoked]],
    [configured.repo, []],
  ];
  for (const [repo, flags] of cases) {
    const out = join(tmp, `out-revoked-${++n}`);
    const r = await waybill(['build', '--out', out, ...trustFlags(ssh), ...flags], { cwd: repo, env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^waybill: build refused: tag not verified: SSH key SHA256:\S+ is revoked \(/m);
    assert.equal(existsSync(join(out, 'hello.tar.gz')), false);
  }
});

test('a recipe writing outside its build directory fails the build: exit 1 naming the path', async () => {
  const p = await project([...TARBALL_COMMANDS, 'echo planted > ../../outside'], ['dist/hello.tar.gz'], ssh);
  const r = await waybill(['build', '--out', join(tmp, 'out-outside'), ...trustFlags(ssh)], {
    cwd: p.repo,
    env,
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /build refused: recipe wrote outside its build directory: \S+\/outside/);
});

/** A project whose recipe may read REAL_HOME (the invoking user's home, passed by the test). */
async function realHomeProject(commands: string[]) {
  return makeProject(
    tmp,
    `e${++n}`,
    buildSection({
      commands: [...TARBALL_COMMANDS, ...commands],
      outputs: ['dist/hello.tar.gz'],
      env: ['REAL_HOME'],
    }),
    ssh,
  );
}

/** Isolation needs a private mount namespace; machines without one use (and test) the snapshot fallback. */
const noNamespace = await isolationSkip();

test('a recipe writing /tmp/NAME or $HOME/NAME by absolute path is refused naming both; nothing reaches /tmp', {
  skip: noNamespace,
}, async () => {
  const name = `waybill-e2e-planted-${randomBytes(6).toString('hex')}`;
  const p = await realHomeProject([`echo x > /tmp/${name}`, `echo y > "$REAL_HOME/${name}"`]);
  const r = await waybill(['build', '--out', join(tmp, `out-planted-${n}`), ...trustFlags(ssh)], {
    cwd: p.repo,
    env: { ...env, REAL_HOME: env.HOME },
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const text = r.stdout + r.stderr;
  assert.match(text, new RegExp(`written outside the build directory: /tmp/${name}$`, 'm'));
  assert.ok(text.includes(`written outside the build directory: ${join(env.HOME as string, name)}\n`), text);
  assert.match(text, /outside writes checked by isolation \(/);
  assert.equal(existsSync(`/tmp/${name}`), false, 'the write reached the real /tmp');
  assert.equal(existsSync(join(env.HOME as string, name)), false, 'the write reached the real home');
});

test('another process creating entries in the real /tmp during build and rebuild is not blamed on the recipe', {
  skip: noNamespace,
}, async () => {
  const p = await project([...TARBALL_COMMANDS, 'sleep 1'], ['dist/hello.tar.gz'], ssh);
  // The build's temp directory is the system one, as for a user with no TMPDIR.
  const systemTmp = { ...env, TMPDIR: '/tmp' };
  const made: string[] = [];
  let busy = true;
  const neighbour = (async () => {
    for (let i = 0; busy; i++) {
      const path = `/tmp/waybill-fs-safety-${randomBytes(4).toString('hex')}-${i}`;
      await writeFile(path, 'another process');
      made.push(path);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const built = await waybillJson<BuildJson & { outsideWriteCheck: string }>(
      ['build', '--out', join(tmp, 'out-busy'), ...trustFlags(ssh)],
      { cwd: p.repo, env: systemTmp },
    );
    assert.equal(built.code, 0, JSON.stringify(built.json, null, 1) + built.stderr);
    assert.equal(built.json.outsideWriteCheck, 'isolated');
    const rebuilt = await waybillJson<RebuildJson & { outsideWriteCheck: string }>(
      ['rebuild', built.json.kit.path, '--trust-recipe'],
      { env: systemTmp },
    );
    assert.equal(rebuilt.code, 0, JSON.stringify(rebuilt.json, null, 1) + rebuilt.stderr);
    assert.equal(rebuilt.json.reproduced, true);
    assert.equal(rebuilt.json.outsideWriteCheck, 'isolated');
    const verdict = JSON.parse(await readFile(rebuilt.json.verdict.path, 'utf8'));
    assert.deepEqual(verdict.predicate.recipe, {
      failure: null,
      outsideWrites: [],
      outsideWriteCheck: 'isolated',
    });
  } finally {
    busy = false;
    await neighbour;
    await Promise.all(made.map((path) => rm(path, { force: true })));
  }
  assert.ok(made.length >= 10, `the neighbour made only ${made.length} entries`);
});

test('the snapshot fallback (forced for tests) still refuses outside writes and says which check ran', async () => {
  const p = await realHomeProject(['echo y > "$REAL_HOME/planted-by-fallback"']);
  const r = await waybillJson<{ ok: boolean; outsideWrites: string[]; outsideWriteCheck: string }>(
    ['build', '--out', join(tmp, 'out-fallback'), ...trustFlags(ssh)],
    { cwd: p.repo, env: { ...env, REAL_HOME: env.HOME, WAYBILL_TEST_SNAPSHOT_ONLY: '1' } },
  );
  assert.equal(r.code, 1, JSON.stringify(r.json));
  assert.equal(r.json.outsideWriteCheck, 'snapshot');
  assert.deepEqual(r.json.outsideWrites, [join(env.HOME as string, 'planted-by-fallback')]);
});

test('with --key the record, the provenance and the verdict are signed, and verify accepts them', async () => {
  const key = join(tmp, 'release');
  const keygen = await waybill(['keygen', '--out', key], { env });
  assert.equal(keygen.code, 0, keygen.stderr);
  const p = await project(
    [...TARBALL_COMMANDS, 'python3 make_oci.py dist/image'],
    ['dist/hello.tar.gz', 'dist/image'],
    ssh,
    {
      'make_oci.py': OCI_SCRIPT,
    },
  );
  const out = join(tmp, 'out-signed');
  const built = await waybill(['build', '--out', out, '--key', `${key}.key`, ...trustFlags(ssh)], {
    cwd: p.repo,
    env,
  });
  assert.equal(built.code, 0, built.stdout + built.stderr);
  assert.match(
    built.stdout,
    /provenance \S+hello\.tar\.gz\.provenance\.json \(signed: \S+hello\.tar\.gz\.provenance\.sigstore\.json\)/,
  );
  assert.match(built.stdout, /provenance \S+image\.provenance\.json \(signed: oci:sha256:[0-9a-f]{64}\)/);
  // The consumer's trust too: verify re-verifies the tag from the record's evidence and runs check.
  const verifyFlags = [
    ...trustFlags(ssh),
    '--key',
    `${key}.pub`,
    '--source-tag',
    'v1.2.3',
    '--source-uri',
    `github.com/example/e${n}`,
  ];
  for (const artifact of [join(out, 'hello.tar.gz'), `oci:${join(out, 'image')}:latest`]) {
    const v = await waybill(['verify', artifact, ...verifyFlags], { env });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /✔ provenance \(https:\/\/slsa\.dev\/provenance\/v1\)/);
    assert.match(v.stdout, /✔ record /);
  }
  const rebuilt = await waybill(
    ['rebuild', join(out, 'hello.tar.gz'), '--trust-recipe', '--key', `${key}.key`],
    { env },
  );
  assert.equal(rebuilt.code, 0, rebuilt.stdout + rebuilt.stderr);
  assert.ok(existsSync(join(out, 'hello.tar.gz.rebuild.sigstore.json')));
  const v = await waybill(['verify', join(out, 'hello.tar.gz'), ...verifyFlags], { env });
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /✔ rebuild \(https:\/\/waybill\.dev\/rebuild\/v1\)/);
  // A key that cannot be read is bad input before anything is built.
  const bad = await waybill(
    ['build', '--out', join(tmp, 'out-badkey'), '--key', join(tmp, 'missing.key'), ...trustFlags(ssh)],
    { cwd: p.repo, env },
  );
  assert.equal(bad.code, 2);
  assert.equal(existsSync(join(tmp, 'out-badkey')), false);
});

describe('rebuild refuses bad kits and untrusted recipes', () => {
  let kit: string;
  before(async () => {
    const p = await project(TARBALL_COMMANDS, ['dist/hello.tar.gz'], ssh);
    const built = await waybillJson<BuildJson>(['build', '--out', join(tmp, 'out-kit'), ...trustFlags(ssh)], {
      cwd: p.repo,
      env,
    });
    assert.equal(built.code, 0, built.stderr);
    kit = built.json.kit.path;
  });

  test('without --trust-recipe (and no terminal) the recipe is shown and nothing runs: exit 2', async () => {
    const r = await waybill(['rebuild', kit], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ {4}1\. mkdir -p dist$/m);
    assert.match(r.stderr, /pass --trust-recipe to run them$/m);
    const shown = await waybill(['rebuild', kit, '--show-recipe'], { env });
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /commands \(run by \/bin\/sh -c/);
  });

  test('a kit whose source archive does not match its record: one line, exit 2, no verdict', async () => {
    const source = (await indexTarFile(kit)).get('source.tar');
    assert.ok(source);
    const handle = await open(kit, 'r+');
    await handle.write(Buffer.from('X'), 0, 1, source.offset + 512);
    await handle.close();
    const r = await waybill(['rebuild', kit, '--trust-recipe'], { env });
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] ?? '',
      /^waybill: \S+hello-1\.2\.3\.rebuild\.tar: source archive digest is sha256:[0-9a-f]{64} but the kit records sha256:[0-9a-f]{64}; the kit was altered — nothing was run$/,
    );
    assert.equal(existsSync(kit.replace(/\.rebuild\.tar$/, '.rebuild.json')), false);
  });
});
