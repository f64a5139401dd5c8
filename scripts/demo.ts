/**
 * `npm run demo`: a release from its signed tag to the consumer's verdict, offline, in seconds.
 *
 *  1. a git repository (scripts/demo/project) whose release tag is signed with a throwaway SSH key;
 *  2. `waybill keygen`: a throwaway signing key for the release team;
 *  3. `waybill build`: the recipe runs in a clean export of the tag; a tarball and an OCI image,
 *     stamped, with signed records and SLSA provenance, and a rebuild kit;
 *  4. `waybill publish` of the tarball to a release directory (a download site's layout);
 *  5. the consumer: `check` (all seven rules pass), `verify` with their own trust, `inspect`;
 *  6. `waybill rebuild` of the downloaded tarball from the kit published with it: reproduced;
 *  7. a failing twin stamped by `waybill stamp`, and its findings;
 *  8. `waybill audit` against a one-advisory database the demo writes;
 *  9. release 1.1.0 records the time it was built: its rebuild is NOT reproduced, the entry named;
 * 10. a forged record and a changed layer byte: `verify` fails both, naming what failed.
 *
 * Every step runs the real `waybill` executable and shows the command and its output; the demo exits
 * 0 only when every step had its expected outcome (exit code and the lines that matter), so it is also
 * a smoke test (test/e2e/demo.test.ts runs it). Everything is left in the output folder printed first.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { demoAdvisory } from './demo/advisory.ts';
import { edit, makeDemoRepository, ORIGIN, release } from './demo/repository.ts';
import { DemoRunner, UnexpectedOutcome } from './demo/runner.ts';
import { copyRelease, editJson, flipLayerByte } from './demo/tamper.ts';

/** Fixed dates make the commits, and so the artifacts and their digests, the same on every run. */
const RELEASE_1_0 = '2026-11-20T10:00:00Z';
const RELEASE_1_1 = '2026-11-27T10:00:00Z';

const started = process.hrtime.bigint();
const out = outputFolder();
const demo = new DemoRunner(
  out,
  new URL('../bin/waybill.js', import.meta.url).pathname,
  Date.parse(RELEASE_1_0) / 1000,
);

/** `--out DIR` (new or empty), else a fresh temporary directory. */
function outputFolder(): string {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  if (values.out === undefined) return mkdtempSync(join(tmpdir(), 'waybill-demo-'));
  const dir = resolve(values.out);
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) {
    process.stderr.write(`demo: ${dir} is not empty; give a new or empty folder\n`);
    process.exit(2);
  }
  return dir;
}

/** What a consumer trusts, from the release team, never from the artifact: who may sign its tags… */
const tagTrust = ['--allowed-signers', 'keys/allowed_signers'];
/** …and the key that signs its statements: check and verify re-verify the tag and the signatures with them. */
const consumerTrust = [...tagTrust, '--key', 'keys/release.pub'];
/** What the consumer expects the provenance to say. */
const provenancePolicy = [
  '--source-uri',
  ORIGIN.replace(/^https:\/\//, '').replace(/\.git$/, ''),
  '--source-tag',
  'v1.0.0',
];

/**
 * `waybill build` of the checked-out tag into `dist`, trusting the tag's SSH key and signing with the
 * release team's key.
 */
function build(dist: string, shows: RegExp[]): void {
  const project = ['--source', 'source', '--config', 'source/waybill.yaml'];
  demo.waybill(['build', ...project, '--out', dist, ...tagTrust, '--key', 'keys/release.key', '--quiet'], {
    exit: 0,
    shows,
  });
}

async function main(): Promise<void> {
  demo.say(`Output folder: ${out}  (paths below are relative to it)`);

  // -----------------------------------------------------------------------------------------------
  demo.step('1. A source repository with a release tag signed by a throwaway SSH key');
  const repo = await makeDemoRepository(out);
  demo.say(await release(repo, 'v1.0.0', 'hello 1.0.0', RELEASE_1_0));
  demo.say('keys/allowed_signers names the key allowed to sign tags; consumers bring their own copy.');

  // -----------------------------------------------------------------------------------------------
  demo.step('2. A signing key for the release team');
  demo.waybill(['keygen', '--out', 'keys/release'], { exit: 0 });

  // -----------------------------------------------------------------------------------------------
  demo.step('3. Build the release from its signed tag (recipe: `node build.mjs`, see source/waybill.yaml)');
  build('dist', [/hello-1\.0\.0\.rebuild\.tar/, /provenance/]);

  // -----------------------------------------------------------------------------------------------
  demo.step('4. Publish the tarball, its statements and its rebuild kit to a release directory');
  mkdirSync(join(out, 'releases'));
  demo.waybill(
    [
      'publish',
      'dist/hello-1.0.0.tar.gz',
      'dir:releases',
      ...tagTrust,
      '--key',
      'keys/release.key',
      '--quiet',
    ],
    {
      exit: 0,
      shows: [/hello-1\.0\.0\.tar\.gz\.rebuild\.tar/, /SHA256SUMS/],
    },
  );

  // -----------------------------------------------------------------------------------------------
  demo.step('5. A consumer checks and verifies what they downloaded, with their own trust');
  const image = 'oci:dist/hello-image:1.0.0';
  const downloaded = 'releases/hello/1.0.0/hello-1.0.0.tar.gz';
  demo.waybill(['check', downloaded, '--published', ...consumerTrust], {
    exit: 0,
    shows: [/^7 passed, 0 failed$/m],
  });
  demo.waybill(['verify', downloaded, ...consumerTrust, ...provenancePolicy], {
    exit: 0,
    shows: [/^✔ record /m, /^✔ provenance /m, /^✔ publication /m],
  });
  demo.waybill(['verify', image, ...consumerTrust, ...provenancePolicy], {
    exit: 0,
    shows: [/^✔ record /m, /^✔ provenance /m],
  });
  demo.waybill(['inspect', image, ...tagTrust], { exit: 0 });

  // -----------------------------------------------------------------------------------------------
  demo.step('6. Anyone can rebuild the release from the kit published with it, and compare bit for bit');
  demo.say('The kit holds the source archive, the recipe, its environment and the published digests.');
  demo.say("Its commands are someone else's code: rebuild runs them only with --trust-recipe (or a yes");
  demo.say('on a terminal); --show-recipe prints them first.');
  demo.waybill(['rebuild', downloaded, '--trust-recipe', '--out', 'rebuild-1.0.0'], {
    exit: 0,
    shows: [/^reproduced +hello-1\.0\.0\.tar\.gz$/m, /^reproduced +hello-image$/m],
  });

  // -----------------------------------------------------------------------------------------------
  demo.step('7. A failing twin: community wording, no bug tracker, a license the policy does not allow');
  mkdirSync(join(out, 'twin'));
  cpSync(join(out, 'dist', 'hello-1.0.0.tar.gz'), join(out, 'twin', 'hello-1.0.0.tar.gz'));
  // Stamped by flags alone, as a CI job without a waybill.yaml would do it; stamp shows the same
  // verdict as check, so only its first lines are shown.
  const twinFacts = ['--name', 'hello', '--version', '1.0.0', '--team', 'the OpenStack community'];
  const twinSource = ['--license', 'GPL-3.0-only', '--source', 'source', ...tagTrust];
  demo.waybill(
    ['stamp', 'file:twin/hello-1.0.0.tar.gz', ...twinFacts, ...twinSource, '--quiet'],
    { exit: 0 },
    { lines: 5 },
  );
  demo.waybill(['check', 'file:twin/hello-1.0.0.tar.gz', ...tagTrust], {
    exit: 1,
    shows: [/^✘ 5 team/m, /^✘ 6 help/m, /^✘ 7 support/m, /^4 passed, 3 failed$/m],
  });

  // -----------------------------------------------------------------------------------------------
  demo.step('8. Known vulnerabilities, from an advisory database you import (here: one made-up advisory)');
  mkdirSync(join(out, 'advisories'));
  writeFileSync(
    join(out, 'advisories', `${demoAdvisory.id}.json`),
    `${JSON.stringify(demoAdvisory, null, 2)}\n`,
  );
  demo.waybill(['db', 'import', 'advisories', '--db', 'advisories.db', '--quiet'], { exit: 0 });
  demo.waybill(['audit', image, '--db', 'advisories.db', '--fail-on', 'high', '--quiet'], {
    exit: 1,
    shows: [/^high .* x_DEMO-2026-0001 +@example\/greeting 1\.2\.0 +fixed in 1\.2\.1$/m],
  });

  // -----------------------------------------------------------------------------------------------
  demo.step('9. Release 1.1.0 writes the time of the build into the tarball: it cannot be reproduced');
  edit(repo, 'VERSION', '1.0.0', '1.1.0');
  edit(
    repo,
    'build.mjs',
    'const extras = [];',
    "const extras = [{ path: 'BUILD_INFO', mode: 0o644, data: Buffer.from('built ' + new Date().toISOString()) }];",
  );
  demo.say(await release(repo, 'v1.1.0', 'hello 1.1.0: record when it was built', RELEASE_1_1));
  build('dist-1.1.0', [/hello-1\.1\.0\.rebuild\.tar/]);
  demo.waybill(['rebuild', 'dist-1.1.0/hello-1.1.0.tar.gz', '--trust-recipe', '--out', 'rebuild-1.1.0'], {
    exit: 1,
    shows: [
      /^NOT reproduced +hello-1\.1\.0\.tar\.gz$/m,
      /^ +content +hello-1\.1\.0\.tar\.gz!\/hello-1\.1\.0\/BUILD_INFO: /m,
      /^reproduced +hello-image$/m,
    ],
  });

  // -----------------------------------------------------------------------------------------------
  demo.step('10. A forged record and a changed layer: verify fails both and names what failed');
  mkdirSync(join(out, 'forged'));
  const forged = copyRelease(join(out, downloaded), join(out, 'forged'));
  // Passing the old tarball off as a new release: the record now claims 2.0.0, from tag v2.0.0.
  editJson(`${forged}.waybill.json`, (record) => {
    const predicate = record.predicate as { identity: { version: string }; source: { tag: string } };
    predicate.identity.version = '2.0.0';
    predicate.source.tag = 'v2.0.0';
  });
  demo.say('forged/hello-1.0.0.tar.gz.waybill.json rewritten by hand: version 2.0.0, tag v2.0.0');
  demo.waybill(['verify', 'forged/hello-1.0.0.tar.gz', ...consumerTrust, ...provenancePolicy], {
    exit: 1,
    shows: [/^✘ record .*\n +failed: .*edited after signing$/m],
  });
  mkdirSync(join(out, 'tampered'));
  const layout = copyRelease(join(out, 'dist', 'hello-image'), join(out, 'tampered'));
  const blob = flipLayerByte(layout, '1.0.0');
  demo.say(`tampered/hello-image/${blob}: one bit flipped`);
  demo.waybill(['verify', 'oci:tampered/hello-image:1.0.0', ...consumerTrust, ...provenancePolicy], {
    exit: 1,
    shows: [
      /^✘ integrity .*\n +failed: tampered\/hello-image\/blobs\/sha256\/[0-9a-f]{64} \(layer 1 of 1\): digest is /m,
    ],
  });
}

try {
  await main();
  demo.step('Every step gave the expected outcome');
  for (const line of demo.checked) demo.say(`  ✔ ${line}`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stderr.write(`\ndemo finished in ${seconds.toFixed(1)} s; everything it made is in ${out}\n`);
} catch (error) {
  if (!(error instanceof UnexpectedOutcome)) throw error;
  process.stdout.write(`\ndemo FAILED: ${error.message}\nEverything it made is in ${out}\n`);
  process.exitCode = 1;
}
