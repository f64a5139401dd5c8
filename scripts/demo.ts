/**
 * `npm run demo`: the main job end to end, offline, on embedded defaults.
 *
 * 1. a temporary git repository whose release tag is signed with a throwaway SSH key;
 * 2. two real artifacts built from it: an OCI image layout (one gzip layer) and a tarball;
 * 3. `waybill stamp --key` on both (record and SBOM attestation signed), then `waybill check` with
 *    the consumer's trust (all seven rules pass: the tag is re-verified from the record's evidence);
 * 4. a failing twin (vendor "the OpenStack community", no bug tracker, GPL-3.0-only) and its findings;
 * 5. `waybill inspect` and `waybill verify`, the consumer's view; a hand-edited record is caught.
 *
 * Every step runs the real `waybill` executable. Nothing is left behind but the output folder printed
 * at the start.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarBuffer } from '../src/archive/tar-writer.ts';
import { OciLayout } from '../src/oci/layout.ts';
import { MEDIA_TYPE, OCI_ANNOTATION } from '../src/oci/types.ts';
// The demo makes its own repository the way the tests do; git in waybill itself only ever runs
// through the hardened runner (src/provenance/git-exec.ts).
import { git as fixtureGit, makeSshSigner } from '../test/helpers/git-fixtures.ts';

const projectRoot = new URL('..', import.meta.url).pathname;
const waybillBin = join(projectRoot, 'bin', 'waybill.js');
const out = mkdtempSync(join(tmpdir(), 'waybill-demo-'));
const color = process.stdout.isTTY;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);

/** Fixed dates make the demo's artifacts, and so their digests, the same on every run. */
const COMMIT_DATE = '2026-11-20T10:00:00Z';
const COMMIT_EPOCH = Date.parse(COMMIT_DATE) / 1000;

function step(title: string): void {
  process.stdout.write(`\n${bold(`== ${title}`)}\n`);
}

/** Runs waybill as a user would and shows the command and its output; returns the exit code. */
function waybill(args: string[], expectExit: number): number {
  const shown = args.map((a) => (a.startsWith(out) ? relative(out, a) || '.' : a));
  process.stdout.write(`${dim('$')} waybill ${shown.join(' ')}\n`);
  const result = spawnSync(process.execPath, [waybillBin, ...args], {
    cwd: out,
    encoding: 'utf8',
    env: { ...process.env, SOURCE_DATE_EPOCH: String(COMMIT_EPOCH), NO_COLOR: color ? '' : '1' },
  });
  process.stdout.write(result.stdout);
  process.stdout.write(result.stderr);
  const code = result.status ?? 2;
  process.stdout.write(dim(`(exit ${code})\n`));
  if (code !== expectExit) {
    throw new Error(`waybill ${args[0]} exited ${code}, expected ${expectExit}`);
  }
  return code;
}

const identity = {
  GIT_AUTHOR_NAME: 'Example Release Team',
  GIT_AUTHOR_EMAIL: 'release@example.org',
  GIT_COMMITTER_NAME: 'Example Release Team',
  GIT_COMMITTER_EMAIL: 'release@example.org',
  GIT_AUTHOR_DATE: COMMIT_DATE,
  GIT_COMMITTER_DATE: COMMIT_DATE,
};

function git(repo: string, args: string[]): Promise<string> {
  return fixtureGit(repo, args, { env: identity });
}

// -------------------------------------------------------------------------------------------------
step(`1. A source repository with a signed release tag  (output folder: ${out})`);

const signer = await makeSshSigner(out, 'release@example.org', 'keys');
const allowedSigners = signer.allowedSignersFile;

const repo = join(out, 'source');
mkdirSync(join(repo, 'bin'), { recursive: true });
const helloScript = '#!/bin/sh\necho "hello from the example release team"\n';
writeFileSync(join(repo, 'bin', 'hello'), helloScript, { mode: 0o755 });
writeFileSync(
  join(repo, 'build.sh'),
  '#!/bin/sh\n# Build inputs are in the repository so anyone can rebuild and compare:\n# the tarball and the image layer hold bin/hello with mtime = the commit date.\n',
);
writeFileSync(
  join(repo, 'waybill.yaml'),
  `version: 1
name: hello
team:
  name: Example Release Team
  contact: release@example.org
help:
  bugTracker: https://bugs.example.org/hello
  docs: https://docs.example.org/hello
license: Apache-2.0
`,
);
await git(repo, ['init', '-q', '-b', 'main']);
await git(repo, ['add', '.']);
await git(repo, ['commit', '-q', '-m', 'hello 1.0.0']);
await git(repo, [
  '-c',
  'gpg.format=ssh',
  '-c',
  `user.signingkey=${signer.privateKey}`,
  'tag',
  '-s',
  'v1.0.0',
  '-m',
  'hello 1.0.0',
]);
process.stdout.write(`${await git(repo, ['log', '--oneline', '--decorate'])}\n`);

// -------------------------------------------------------------------------------------------------
step('2. Build two artifacts from the tag: an OCI image layout and a tarball');

const artifacts = join(out, 'artifacts');
mkdirSync(artifacts);
// The image ships the script with the npm packages it would run on: real package.json files taken
// from waybill's own node_modules, so the SBOM lists real components with their exact versions.
const bundled = ['ajv', 'commander', 'yaml'].map((name) => ({
  path: `usr/local/lib/hello/node_modules/${name}/package.json`,
  data: readFileSync(join(projectRoot, 'node_modules', name, 'package.json')),
}));
const layerTar = await tarBuffer(
  [
    { path: 'usr/', type: 'dir' },
    { path: 'usr/local/', type: 'dir' },
    { path: 'usr/local/bin/', type: 'dir' },
    { path: 'usr/local/bin/hello', data: helloScript, mode: 0o755 },
    ...bundled,
  ],
  { mtime: COMMIT_EPOCH },
);
// gzip with no name and mtime 0 in its header: the same bytes on every run.
const layerGz = gzipSync(layerTar, { level: 9 });
const imageDir = join(artifacts, 'hello-image');
const layout = await OciLayout.init(imageDir);
const layerDesc = await layout.writeBlob(layerGz, MEDIA_TYPE.ociLayerGzip);
const diffId = `sha256:${(await import('node:crypto')).createHash('sha256').update(layerTar).digest('hex')}`;
const config = {
  created: COMMIT_DATE,
  architecture: 'amd64',
  os: 'linux',
  config: { Entrypoint: ['/usr/local/bin/hello'] },
  rootfs: { type: 'layers', diff_ids: [diffId] },
  history: [{ created: COMMIT_DATE, created_by: 'build.sh' }],
};
const configDesc = await layout.writeBlob(Buffer.from(JSON.stringify(config)), MEDIA_TYPE.ociConfig);
const manifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.ociManifest,
  config: configDesc,
  layers: [layerDesc],
};
const manifestDesc = await layout.writeBlob(Buffer.from(JSON.stringify(manifest)), MEDIA_TYPE.ociManifest);
await layout.writeIndex({
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.ociIndex,
  manifests: [{ ...manifestDesc, annotations: { [OCI_ANNOTATION.refName]: '1.0.0' } }],
});
const tarball = join(artifacts, 'hello-1.0.0.tar.gz');
writeFileSync(
  tarball,
  gzipSync(
    await tarBuffer(
      [
        { path: 'hello-1.0.0/bin/hello', data: helloScript, mode: 0o755 },
        ...bundled.map((b) => ({ ...b, path: b.path.replace('usr/local/lib/hello/', 'hello-1.0.0/') })),
      ],
      { mtime: COMMIT_EPOCH },
    ),
  ),
);
process.stdout.write(`${relative(out, imageDir)}  (OCI layout, tag 1.0.0, ${layerGz.length} byte layer)\n`);
process.stdout.write(`${relative(out, tarball)}\n`);

// -------------------------------------------------------------------------------------------------
step('3. Stamp both: the release record, the SBOM, and the image labels and annotations');

waybill(['keygen', '--out', join(out, 'keys', 'release')], 0);
const releaseKey = join(out, 'keys', 'release.key');
const releasePub = join(out, 'keys', 'release.pub');
const config_ = join(repo, 'waybill.yaml');
const common = [
  '--config',
  config_,
  '--source',
  repo,
  '--allowed-signers',
  allowedSigners,
  '--key',
  releaseKey,
  '--quiet',
];
/** What a consumer brings: the release team's tag signers and public key, never the artifact's. */
const consumer = ['--allowed-signers', allowedSigners, '--key', releasePub];
waybill(['stamp', `oci:${imageDir}:1.0.0`, '--version', '1.0.0', ...common], 0);
waybill(['stamp', `file:${tarball}`, '--version', '1.0.0', ...common], 0);

// -------------------------------------------------------------------------------------------------
step('4. Check both against the seven guidelines');

waybill(['check', `oci:${imageDir}:1.0.0`, '--config', config_, ...consumer], 0);
waybill(['check', `file:${tarball}`, '--config', config_, ...consumer], 0);

// -------------------------------------------------------------------------------------------------
step('5. A failing twin: community wording, no bug tracker, a license the policy does not allow');

const twin = join(artifacts, 'hello-twin-1.0.0.tar.gz');
copyFileSync(tarball, twin);
// The twin is stamped by flags alone, as a CI job without a waybill.yaml would do it.
waybill(
  [
    'stamp',
    `file:${twin}`,
    '--name',
    'hello',
    '--version',
    '1.0.0',
    '--team',
    'the OpenStack community',
    '--license',
    'GPL-3.0-only',
    '--source',
    repo,
    '--allowed-signers',
    allowedSigners,
    '--quiet',
  ],
  0,
);
waybill(['check', `file:${twin}`, '--allowed-signers', allowedSigners], 1);

// -------------------------------------------------------------------------------------------------
step('6. What a consumer sees');

waybill(['inspect', `oci:${imageDir}:1.0.0`, '--allowed-signers', allowedSigners], 0);
waybill(['verify', `file:${tarball}`, '--config', config_, ...consumer], 0);

// -------------------------------------------------------------------------------------------------
step('7. A forged record: the release tag renamed by hand in the record');

const forged = join(out, 'forged');
mkdirSync(forged);
const forgedTarball = join(forged, 'hello-1.0.0.tar.gz');
copyFileSync(tarball, forgedTarball);
copyFileSync(`${tarball}.cdx.json`, `${forgedTarball}.cdx.json`);
const record = JSON.parse(readFileSync(`${tarball}.waybill.json`, 'utf8'));
record.predicate.source.tag = 'v9.9.9';
writeFileSync(`${forgedTarball}.waybill.json`, JSON.stringify(record, null, 2));
waybill(['verify', `file:${forgedTarball}`, '--config', config_, '--allow-unsigned', ...consumer], 1);

process.stdout.write(`\n${bold('Done.')} Everything the demo made is in ${out}\n`);
