/**
 * End to end through the real CLI: what waybill reads and writes on the filesystem.
 *
 * - Non-regular inputs (FIFOs, /dev/zero, /dev/urandom, links inside a layout) are refused with one
 *   line and exit 2 wherever they appear — as the artifact, inside it, as a sidecar, config, policy
 *   or --sbom — and never hang: every run has a timeout that would fail the test.
 * - Writes never go through links: a link, FIFO or device planted where stamp writes (sidecars, the
 *   empty-config blob, index.json, blobs/sha256) is refused and what it points at is untouched.
 * - stamp is one operation: killed (SIGKILL, through a test hook) at every step of its commit, it
 *   leaves a state a consumer judges safely, and the next stamp finishes it and leaves no temp files;
 *   a full disk (a real tmpfs) leaves the old artifact; a second concurrent stamp is told, not lost.
 * - `dir:` digests cover owner, mode bits and device numbers; `stamp dir:.` writes nothing inside.
 * - Output errors (EPIPE, ENOSPC on stdout) are one line and exit 2.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { EMPTY_CONFIG } from '../../src/oci/attach.ts';
import { buildOciLayout } from '../../src/sources/testing.ts';
import { buildPackages } from '../fixtures/build-packages.ts';
import { type CliResult, startWaybill, waybill } from '../helpers/cli.ts';

/** Far more than any run needs, even on a loaded machine: a run that reaches it hung. */
const TIMEOUT = 90_000;
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

/** Flags for a stamp; each version has its own bug tracker, so a deb's control file changes too. */
function stampFlags(version: string): string[] {
  return [
    '--name',
    'demo',
    '--version',
    version,
    '--team',
    'Example Team',
    '--contact',
    'team@example.org',
    '--bug-tracker',
    `https://bugs.example.org/demo/${version}`,
    '--built',
    '2024-01-01T00:00:00Z',
  ];
}

let root: string;
let deb: string | undefined;
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'waybill-fs-safety-'));
  deb = (await buildPackages({ skopeo: false })).deb.gzip;
});
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function caseDir(name: string): string {
  const dir = join(root, `${String(counter++).padStart(2, '0')}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return waybill(args, { cwd, env: { ...ENV, ...env }, timeoutMs: TIMEOUT });
}

/** Exit 2, exactly one `waybill: …` line on stderr matching `why`, no stack trace, no hang. */
function assertOneLine(result: CliResult, why: RegExp, label: string): void {
  const context = `${label}\n--- exit ${result.code}\n--- stderr:\n${result.stderr}\n--- stdout:\n${result.stdout.slice(0, 300)}`;
  assert.notEqual(result.code, -1, `timed out: ${context}`);
  assert.equal(result.code, 2, `exit code: ${context}`);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `one line: ${context}`);
  assert.match(lines[0] as string, /^waybill: /, context);
  assert.match(lines[0] as string, why, context);
  assert.doesNotMatch(result.stderr, /\n\s+at |node:internal|ERR_/, context);
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const mkfifo = (path: string) => execFileSync('mkfifo', [path]);
const isRoot = process.getuid?.() === 0;

/** A small OCI layout tagged `1.0` in `dir`, one layer with an npm package. */
async function layout(dir: string, extra: Record<string, string | Buffer> = {}): Promise<string> {
  await buildOciLayout(
    dir,
    [{ 'app/node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.3.0"}', ...extra }],
    { tag: '1.0' },
  );
  return dir;
}

/** Names in `dir` (recursively) that are waybill's transient files: there must be none at rest. */
function transientFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (/waybill-\d+-[0-9a-f]{16}\.tmp|waybill\.lock|waybill-journal\.json/.test(entry.name))
      out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
describe('non-regular inputs are refused at once, never read', { concurrency: true }, () => {
  test('a FIFO as the artifact: every command on a plain path, every transport', async () => {
    const dir = caseDir('fifo-artifact');
    mkfifo(join(dir, 'pipe'));
    const runs: string[][] = [
      ['check', 'pipe'],
      ['inspect', 'pipe'],
      ['sbom', 'pipe'],
      ['stamp', 'pipe', ...stampFlags('1.0')],
      ...['file:', 'oci-archive:', 'docker-archive:', 'dir:', 'oci:'].map((t) => ['check', `${t}pipe`]),
    ];
    for (const args of runs) {
      const result = await run(args, dir);
      assertOneLine(result, /pipe is (a FIFO \(named pipe\)|not a (regular file|directory))/, args.join(' '));
    }
    assert.deepEqual(readdirSync(dir), ['pipe']);
  });

  test('/dev/zero and /dev/urandom, plain and prefixed', async () => {
    const dir = caseDir('devices');
    const runs = [
      ['check', '/dev/zero'],
      ['sbom', '/dev/urandom'],
      ['check', 'file:/dev/zero'],
      ['inspect', 'oci-archive:/dev/urandom'],
      ['sbom', 'docker-archive:/dev/zero'],
    ];
    for (const args of runs) {
      assertOneLine(await run(args, dir), /is (a character device|not a regular file)/, args.join(' '));
    }
  });

  test('index.json or a manifest blob that is a FIFO, a blob that is a symlink', async () => {
    const fifoIndex = await layout(caseDir('fifo-index'));
    rmSync(join(fifoIndex, 'index.json'));
    mkfifo(join(fifoIndex, 'index.json'));
    assertOneLine(
      await run(['check', `oci:${fifoIndex}:1.0`], fifoIndex),
      /index\.json: is a FIFO/,
      'fifo index',
    );

    const dir = caseDir('fifo-blob');
    const built = await buildOciLayout(dir, [{ a: 'x' }], { tag: '1.0' });
    const manifest = join(dir, 'blobs', 'sha256', built.manifest.digest.slice(7));
    rmSync(manifest);
    mkfifo(manifest);
    for (const command of ['check', 'inspect', 'sbom'])
      assertOneLine(await run([command, `oci:${dir}:1.0`], dir), /is a FIFO/, `${command} fifo manifest`);

    // A blob that is a link to its own (correct) bytes elsewhere still reads outside the layout.
    const linked = caseDir('linked-blob');
    const image = await buildOciLayout(linked, [{ a: 'x' }], { tag: '1.0' });
    const config = join(linked, 'blobs', 'sha256', image.config.digest.slice(7));
    const outside = join(caseDir('outside'), 'config.json');
    copyFileSync(config, outside);
    rmSync(config);
    symlinkSync(outside, config);
    assertOneLine(
      await run(['check', `oci:${linked}:1.0`], linked),
      /is a symbolic link/,
      'linked config blob',
    );
  });

  test('a record or SBOM sidecar that is a FIFO', async () => {
    const dir = caseDir('fifo-sidecars');
    writeFileSync(join(dir, 'app.txt'), 'hello');
    mkfifo(join(dir, 'app.txt.waybill.json'));
    for (const command of ['check', 'inspect'])
      assertOneLine(
        await run([command, 'app.txt'], dir),
        /app\.txt\.waybill\.json: is a FIFO/,
        `${command} record fifo`,
      );
    rmSync(join(dir, 'app.txt.waybill.json'));
    assert.equal((await run(['stamp', 'app.txt', ...stampFlags('1.0')], dir)).code, 0);
    rmSync(join(dir, 'app.txt.cdx.json'));
    mkfifo(join(dir, 'app.txt.cdx.json'));
    // The manifest rule reports the FIFO (exit 1: a rule failed), without waiting on it.
    const checked = await run(['check', 'app.txt', '--format', 'json'], dir);
    assert.equal(checked.code, 1, checked.stderr);
    const manifest = JSON.parse(checked.stdout).rules.find((r: { id: string }) => r.id === 'manifest');
    assert.equal(manifest.status, 'fail');
    assert.match(JSON.stringify(manifest.findings), /is a FIFO/);
  });

  test('a config, policy or --sbom file that is a FIFO', async () => {
    const dir = caseDir('fifo-settings');
    writeFileSync(join(dir, 'app.txt'), 'hello');
    mkfifo(join(dir, 'fifo'));
    assertOneLine(await run(['check', 'app.txt', '-c', 'fifo'], dir), /fifo: is a FIFO/, '-c fifo');
    assertOneLine(
      await run(['check', 'app.txt', '--policy', 'fifo'], dir),
      /fifo: is a FIFO/,
      '--policy fifo',
    );
    assertOneLine(
      await run(['stamp', 'app.txt', '--sbom', 'fifo', ...stampFlags('1.0')], dir),
      /fifo: is a FIFO/,
      '--sbom fifo',
    );
    assert.deepEqual(readdirSync(dir).sort(), ['app.txt', 'fifo']);
  });

  test('FIFOs and devices inside a dir: artifact are listed, never opened', async () => {
    const dir = caseDir('dir-nodes');
    const tree = join(dir, 'rootfs');
    mkdirSync(join(tree, 'etc'), { recursive: true });
    mkdirSync(join(tree, 'bin'));
    mkfifo(join(tree, 'etc', 'os-release')); // read by the rootfs reader and the distro detector
    mkfifo(join(tree, 'bin', 'sh')); // sniffed as a possible executable
    if (isRoot) execFileSync('mknod', [join(tree, 'bin', 'zero'), 'c', '1', '5']);
    for (const command of ['check', 'inspect', 'sbom']) {
      const result = await run([command, `dir:${tree}`], dir);
      assert.notEqual(result.code, -1, `${command} hung`);
      assert.ok(result.code === 0 || result.code === 1, `${command}: ${result.code} ${result.stderr}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
describe('writes never go through links or into devices', { concurrency: true }, () => {
  test('a link or FIFO at a sidecar path is refused; its target is untouched', async () => {
    for (const [sidecar, plant] of [
      ['app.txt.cdx.json', 'victim'],
      ['app.txt.waybill.json', 'victim'],
      ['app.txt.cdx.json', '/dev/null'],
      ['app.txt.waybill.json', 'fifo'],
    ] as const) {
      const dir = caseDir('planted-sidecar');
      writeFileSync(join(dir, 'app.txt'), 'hello');
      writeFileSync(join(dir, 'victim'), 'precious');
      if (plant === 'fifo') mkfifo(join(dir, sidecar));
      else symlinkSync(plant === 'victim' ? join(dir, 'victim') : plant, join(dir, sidecar));
      const result = await run(['stamp', 'app.txt', ...stampFlags('1.0')], dir);
      assertOneLine(
        result,
        new RegExp(`${sidecar.replaceAll('.', '\\.')}: is a (symbolic link|FIFO)`),
        `${sidecar} → ${plant}`,
      );
      assert.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'precious');
      assert.deepEqual(readdirSync(dir).sort(), ['app.txt', sidecar, 'victim'].sort());
    }
  });

  test('a link at the empty-config blob, at index.json, or blobs/sha256 itself is refused', async () => {
    const victimDir = caseDir('victims');
    const victim = join(victimDir, 'victim');
    writeFileSync(victim, 'precious');

    const emptyConfig = await layout(caseDir('empty-config-link'));
    symlinkSync(victim, join(emptyConfig, 'blobs', 'sha256', EMPTY_CONFIG.digest.slice(7)));
    const indexBefore = readFileSync(join(emptyConfig, 'index.json'));
    assertOneLine(
      await run(['stamp', `oci:${emptyConfig}:1.0`, ...stampFlags('1.0')], emptyConfig),
      /blobs\/sha256\/44136fa3.*: is a symbolic link/,
      'empty config link',
    );
    assert.deepEqual(readFileSync(join(emptyConfig, 'index.json')), indexBefore, 'the tag did not move');
    assert.deepEqual(transientFiles(emptyConfig), []);

    const indexLink = await layout(caseDir('index-link'));
    copyFileSync(join(indexLink, 'index.json'), victim);
    rmSync(join(indexLink, 'index.json'));
    symlinkSync(victim, join(indexLink, 'index.json'));
    const victimBytes = readFileSync(victim);
    for (const command of ['check', 'stamp'])
      assertOneLine(
        await run(
          [command, `oci:${indexLink}:1.0`, ...(command === 'stamp' ? stampFlags('1.0') : [])],
          indexLink,
        ),
        /index\.json: is a symbolic link/,
        `${command} index link`,
      );
    assert.deepEqual(readFileSync(victim), victimBytes);

    const blobsLink = await layout(caseDir('blobs-link'));
    const elsewhere = join(caseDir('elsewhere'), 'sha256');
    cpSync(join(blobsLink, 'blobs', 'sha256'), elsewhere, { recursive: true });
    rmSync(join(blobsLink, 'blobs', 'sha256'), { recursive: true });
    symlinkSync(elsewhere, join(blobsLink, 'blobs', 'sha256'));
    const before = readdirSync(elsewhere).sort();
    assertOneLine(
      await run(['stamp', `oci:${blobsLink}:1.0`, ...stampFlags('1.0')], blobsLink),
      /blobs\/sha256: is a symbolic link, not a directory/,
      'blobs/sha256 link',
    );
    assert.deepEqual(readdirSync(elsewhere).sort(), before, 'nothing written through the link');
  });

  test('an artifact that stamp would rewrite, named through a symlink, is refused before any work', async (t) => {
    if (!deb) return t.skip('dpkg-deb is not available');
    const dir = caseDir('linked-deb');
    copyFileSync(deb, join(dir, 'demo_1.0_all.deb'));
    symlinkSync('demo_1.0_all.deb', join(dir, 'latest.deb'));
    const before = sha(join(dir, 'demo_1.0_all.deb'));
    assertOneLine(
      await run(['stamp', 'latest.deb', ...stampFlags('1.0')], dir),
      /latest\.deb: is a symbolic link/,
      'stamp latest.deb',
    );
    assert.equal(sha(join(dir, 'demo_1.0_all.deb')), before);
    assert.deepEqual(readdirSync(dir).sort(), ['demo_1.0_all.deb', 'latest.deb']);
  });

  test('an explicit -o still writes to a device, a FIFO or through a link, as the shell would', async () => {
    const dir = caseDir('explicit-output');
    writeFileSync(join(dir, 'app.txt'), 'hello');
    assert.equal((await run(['sbom', 'app.txt', '-o', '/dev/null', '--quiet'], dir)).code, 0);
    writeFileSync(join(dir, 'target.json'), '');
    symlinkSync(join(dir, 'target.json'), join(dir, 'link.json'));
    assert.equal((await run(['sbom', 'app.txt', '-o', 'link.json', '--quiet'], dir)).code, 0);
    assert.ok(lstatSync(join(dir, 'link.json')).isSymbolicLink());
    assert.match(readFileSync(join(dir, 'target.json'), 'utf8'), /CycloneDX/);
    assertOneLine(
      await run(['sbom', 'app.txt', '-o', '/dev/full', '--quiet'], dir),
      /\/dev\/full: cannot write: no space left on the device \(ENOSPC\)/,
      '-o /dev/full',
    );
  });

  test('init never writes through a link at waybill.yaml, even with --force', async () => {
    const dir = caseDir('init-link');
    writeFileSync(join(dir, 'victim'), 'precious');
    symlinkSync(join(dir, 'victim'), join(dir, 'waybill.yaml'));
    assertOneLine(await run(['init', '--force'], dir), /waybill\.yaml: is a symbolic link/, 'init --force');
    assert.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'precious');
  });
});

// ---------------------------------------------------------------------------------------------------
interface SidecarState {
  artifact: string;
  sbom?: string;
  record?: { subject: string; sbom: string; version: string };
}

function sidecarState(path: string): SidecarState {
  const state: SidecarState = { artifact: sha(path) };
  if (existsSync(`${path}.cdx.json`)) state.sbom = sha(`${path}.cdx.json`);
  if (existsSync(`${path}.waybill.json`)) {
    const r = JSON.parse(readFileSync(`${path}.waybill.json`, 'utf8'));
    state.record = {
      subject: r.subject[0].digest.sha256,
      sbom: r.predicate.manifest.digest.sha256,
      version: r.predicate.identity.version,
    };
  }
  return state;
}

/**
 * What a consumer may see after a stamp was killed: never a rewritten artifact without its record,
 * never an SBOM without a record, and a record bound to the artifact always with the SBOM it names.
 * (An old SBOM may outlive its record for a moment: the new record, renamed first, binds the new
 * digest, so the old artifact then has no record bound to it, as if it were not stamped.)
 */
function assertConsumerSafe(state: SidecarState, original: SidecarState, label: string): void {
  const text = `${label}: ${JSON.stringify(state)}`;
  if (state.artifact !== original.artifact)
    assert.equal(state.record?.subject, state.artifact, `rewritten artifact without its record: ${text}`);
  if (state.sbom !== undefined) assert.ok(state.record, `SBOM without a record: ${text}`);
  if (state.record?.subject === state.artifact)
    assert.equal(state.record.sbom, state.sbom, `record without the SBOM it names: ${text}`);
}

/**
 * Where the deb stamp is killed: before its commit, after the journal, after the record, after the
 * SBOM, and after the artifact itself (only the journal's removal was left).
 */
const SIDECAR_POINTS = [
  'stamp:prepared',
  'commit:journal',
  'commit:rename-1',
  'commit:rename-2',
  'commit:rename-3',
];

/**
 * Where the layout stamp is killed. It publishes 7 new blobs (config, manifest, the empty config,
 * SBOM payload and manifest, record payload and manifest), then index.json as rename 8.
 */
const LAYOUT_POINTS: Array<[string, 'old' | 'new']> = [
  ['commit:journal', 'old'],
  ['commit:rename-1', 'old'],
  ['commit:rename-7', 'old'],
  ['commit:rename-8', 'new'],
];

describe('stamp is one operation', { concurrency: true }, () => {
  test('a deb killed at every step of a re-stamp: a safe state, then the next stamp completes it', async (t) => {
    if (!deb) return t.skip('dpkg-deb is not available');
    // The outcome a stamp that was never interrupted gives, for comparison.
    const reference = join(caseDir('deb-reference'), 'demo.deb');
    copyFileSync(deb, reference);
    assert.equal((await run(['stamp', reference, ...stampFlags('1.0')], root)).code, 0);
    assert.equal((await run(['stamp', reference, ...stampFlags('2.0')], root)).code, 0);
    const expected = sidecarState(reference);
    assert.equal(expected.record?.version, '2.0');

    for (const point of SIDECAR_POINTS) {
      const dir = caseDir(`deb-crash-${point.replace(':', '-')}`);
      const path = join(dir, 'demo.deb');
      copyFileSync(deb, path);
      assert.equal((await run(['stamp', path, ...stampFlags('1.0')], dir)).code, 0);
      const original = sidecarState(path);
      const killed = await run(['stamp', path, ...stampFlags('2.0')], dir, { WAYBILL_TEST_CRASH_AT: point });
      assert.equal(killed.code, -1, `${point}: killed (${killed.stderr})`);
      const state = sidecarState(path);
      assertConsumerSafe(state, original, point);
      if (!isDeepStrictEqual(state, original) && !isDeepStrictEqual(state, expected)) {
        // In between, the consumer's verdict is a failure, never a pass: the record binds another
        // digest or pins another SBOM (refused as changed bytes, exit 2), or the SBOM it names is not
        // there yet (the manifest rule fails).
        const checked = await run(['check', path, '--format', 'json'], dir);
        if (checked.code === 2) {
          assert.match(checked.stderr, /digest is sha256:[0-9a-f]{64}, expected sha256:/, point);
        } else {
          const report = JSON.parse(checked.stdout);
          const status = (id: string) => report.rules.find((r: { id: string }) => r.id === id).status;
          assert.ok(
            status('identity') === 'fail' || status('manifest') === 'fail',
            `${point}: ${JSON.stringify(report)}`,
          );
        }
      }

      const next = await run(['stamp', path, ...stampFlags('2.0'), '--format', 'json'], dir);
      assert.equal(next.code, 0, `${point}: ${next.stderr}`);
      assert.deepEqual(sidecarState(path), expected, `${point}: completed`);
      assert.deepEqual(
        readdirSync(dir).sort(),
        ['demo.deb', 'demo.deb.cdx.json', 'demo.deb.waybill.json'],
        point,
      );
    }
  });

  test('an OCI layout killed at every step: the tag moves only with its records; leftovers cleaned', async () => {
    const reference = await layout(caseDir('oci-reference'));
    assert.equal((await run(['stamp', `oci:${reference}:1.0`, ...stampFlags('1.0')], reference)).code, 0);
    const expectedIndex = readFileSync(join(reference, 'index.json'));
    const expectedBlobs = readdirSync(join(reference, 'blobs', 'sha256')).sort();

    for (const [point, visible] of LAYOUT_POINTS) {
      const dir = await layout(caseDir(`oci-crash-${point.replace(':', '-')}`));
      const originalIndex = readFileSync(join(dir, 'index.json'));
      const ref = `oci:${dir}:1.0`;
      const killed = await run(['stamp', ref, ...stampFlags('1.0')], dir, { WAYBILL_TEST_CRASH_AT: point });
      assert.equal(killed.code, -1, `${point}: killed (${killed.stderr})`);
      const index = readFileSync(join(dir, 'index.json'));
      assert.deepEqual(
        index,
        visible === 'old' ? originalIndex : expectedIndex,
        `${point}: index.json is ${visible}`,
      );
      const inspected = await run(['inspect', ref, '--format', 'json'], dir);
      assert.equal(inspected.code, 0, inspected.stderr);
      // The tag names either the old image with no record, or the new one with its record.
      assert.equal(JSON.parse(inspected.stdout).record !== null, index.equals(expectedIndex), point);

      const next = await run(['stamp', ref, ...stampFlags('1.0')], dir);
      assert.equal(next.code, 0, `${point}: ${next.stderr}`);
      assert.deepEqual(readFileSync(join(dir, 'index.json')), expectedIndex, point);
      assert.deepEqual(readdirSync(join(dir, 'blobs', 'sha256')).sort(), expectedBlobs, point);
      assert.deepEqual(transientFiles(dir), [], point);
    }
  });

  test('an oci-archive killed after its new tar is staged: the archive is unchanged, the big leftover removed', async () => {
    const dir = caseDir('archive-crash');
    const tree = await layout(join(dir, 'tree'), { 'big.bin': Buffer.alloc(2 * 1024 * 1024, 7) });
    const archive = join(dir, 'image.tar');
    execFileSync('tar', ['-C', tree, '-cf', archive, '.']);
    rmSync(tree, { recursive: true });
    const before = sha(archive);
    const killed = await run(['stamp', `oci-archive:${archive}:1.0`, ...stampFlags('1.0')], dir, {
      WAYBILL_TEST_CRASH_AT: 'commit:staged',
    });
    assert.equal(killed.code, -1, killed.stderr);
    assert.equal(sha(archive), before);
    assert.equal(transientFiles(dir).length, 2, 'the staging directory and the lock are left'); // the kill
    const next = await run(['stamp', `oci-archive:${archive}:1.0`, ...stampFlags('1.0')], dir);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /removed: left by an interrupted stamp/);
    assert.notEqual(sha(archive), before);
    assert.deepEqual(readdirSync(dir), ['image.tar']);
  });

  test('two stamps at once: the second is told who holds the lock; a killed holder does not block', async () => {
    const dir = caseDir('concurrent');
    writeFileSync(join(dir, 'app.txt'), 'hello');
    const first = startWaybill(['stamp', 'app.txt', ...stampFlags('1.0')], {
      cwd: dir,
      env: { ...ENV, WAYBILL_TEST_PAUSE_AT: 'stamp:locked' },
      timeoutMs: TIMEOUT,
    });
    const lock = join(dir, '.app.txt.waybill.lock');
    for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(lock), 'the first stamp holds the lock');
    const second = await run(['stamp', 'app.txt', ...stampFlags('2.0')], dir);
    assertOneLine(
      second,
      new RegExp(`another waybill run holds the lock .* \\(pid ${first.child.pid} on `),
      'second stamp',
    );
    first.child.kill('SIGKILL');
    await first.result;
    assert.ok(existsSync(lock), 'kill -9 leaves the lock');
    const third = await run(['stamp', 'app.txt', ...stampFlags('2.0')], dir);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(sidecarState(join(dir, 'app.txt')).record?.version, '2.0');
    assert.deepEqual(readdirSync(dir).sort(), ['app.txt', 'app.txt.cdx.json', 'app.txt.waybill.json']);
  });

  test('a full disk (a real 3 MiB tmpfs) leaves the old archive and no temp file', {
    skip: !isRoot && 'needs root to mount a tmpfs',
  }, async (t) => {
    const mount = caseDir('tmpfs');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mount], { stdio: 'ignore' });
    } catch {
      return t.skip('mount -t tmpfs is not permitted here');
    }
    try {
      // An incompressible 1.8 MiB layer: the archive fits in the tmpfs, a second copy of it does not.
      const noise = Buffer.alloc(1.8 * 1024 * 1024);
      for (let i = 0; i < noise.length; i += 64)
        createHash('sha512').update(String(i)).digest().copy(noise, i);
      const tree = caseDir('tmpfs-tree');
      await buildOciLayout(tree, [{ 'noise.bin': noise }], { tag: '1.0', compression: 'none' });
      const archive = join(mount, 'image.tar');
      execFileSync('tar', ['-C', tree, '-cf', archive, '.']);
      const before = sha(archive);
      const result = await run(['stamp', `oci-archive:${archive}:1.0`, ...stampFlags('1.0')], mount);
      assertOneLine(result, /cannot write: no space left on the device \(ENOSPC\)/, 'stamp on a full disk');
      assert.equal(sha(archive), before);
      assert.deepEqual(readdirSync(mount), ['image.tar']);
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
describe('dir: artifacts', { concurrency: true }, () => {
  test('stamp dir:. writes nothing inside; check finds the record beside it; a setuid bit breaks the binding', async () => {
    const dir = caseDir('dir-dot');
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'bin'), { recursive: true });
    writeFileSync(join(tree, 'bin', 'tool'), '#!/bin/sh\n');
    const stamped = await run(['stamp', 'dir:.', ...stampFlags('1.0'), '--format', 'json'], tree);
    assert.equal(stamped.code, 0, stamped.stderr);
    assert.deepEqual(readdirSync(tree), ['bin'], 'nothing inside the artifact');
    assert.deepEqual(readdirSync(dir).sort(), ['tree', 'tree.cdx.json', 'tree.waybill.json']);
    const bound = async () => {
      const checked = await run(['check', 'dir:.', '--format', 'json'], tree);
      // Bound: the rules run (no signed source: one fails). Not bound: the tree is not what the record
      // names, refused before any rule (docs/integrity.md).
      if (checked.code === 1) return true;
      assert.equal(checked.code, 2, checked.stderr);
      assert.match(
        checked.stderr,
        /directory tree.*expected sha256:[0-9a-f]{64} \(the release record's subject\)/,
      );
      return false;
    };
    assert.equal(await bound(), true);
    chmodSync(join(tree, 'bin', 'tool'), 0o4755);
    assert.equal(await bound(), false, 'setuid changes the digest');
  });
});

// ---------------------------------------------------------------------------------------------------
describe('output errors', { concurrency: true }, () => {
  /** A dir: artifact whose SBOM is far larger than a pipe's buffer. */
  function manyPackages(): string {
    const dir = caseDir('many');
    for (let i = 0; i < 600; i++) {
      mkdirSync(join(dir, 'node_modules', `p${i}`), { recursive: true });
      writeFileSync(
        join(dir, 'node_modules', `p${i}`, 'package.json'),
        JSON.stringify({ name: `p${i}`, version: `1.0.${i}` }),
      );
    }
    return dir;
  }

  test('a reader that closes the pipe early (| head -c 1): one line, exit 2', async () => {
    const dir = manyPackages();
    const running = startWaybill(['sbom', `dir:${dir}`, '--quiet'], { timeoutMs: TIMEOUT });
    running.child.stdout?.once('data', () => running.child.stdout?.destroy());
    const result = await running.result;
    assertOneLine(result, /standard output: cannot write \(EPIPE/, 'sbom | head -c 1');
  });

  test('stdout on a full device (> /dev/full): one line, exit 2 — also for check, whose 1 means a failed rule', async () => {
    const dir = caseDir('dev-full');
    writeFileSync(join(dir, 'app.txt'), 'hello');
    for (const args of [['sbom', 'app.txt'], ['check', 'app.txt', '--format', 'json'], ['--help']]) {
      const full = openSync('/dev/full', 'w');
      try {
        const result = await waybill(args, { cwd: dir, stdout: full, timeoutMs: TIMEOUT });
        assertOneLine(result, /standard output: cannot write \(ENOSPC\)/, args.join(' '));
      } finally {
        closeSync(full);
      }
    }
  });
});
