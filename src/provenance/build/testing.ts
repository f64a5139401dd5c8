/**
 * Test helpers for build and rebuild: a real repository with a waybill.yaml build section and a
 * signed tag, and the options `buildRelease` needs to build it with a private HOME and TMPDIR (so the
 * outside-write watch sees only the test's own directories).
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, makeRepo, type Signer, signedTag } from '../../../test/helpers/git-fixtures.ts';
import { parseConfigText } from '../../config/load.ts';
import { resolveSettings } from '../../config/merge.ts';
import { sha256Hex } from '../../util/digest.ts';
import type { BuildOptions } from './build.ts';
import { namespaceRuntime } from './isolation.ts';
import type { KitManifest, KitOutput } from './kit.ts';

export const PROJECT_CONFIG = `version: 1
name: hello
team:
  name: Example Release Team
  contact: release@example.org
help:
  bugTracker: https://bugs.example.org/hello
`;

/** A reproducible tarball of src/ (sorted, commit-time mtimes, root-owned, gzip without a timestamp). */
export const TARBALL_COMMANDS = [
  'mkdir -p dist',
  'tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner -cf - src | gzip -n > dist/hello.tar.gz',
];

/** YAML for a build section. */
export function buildSection(s: {
  commands: string[];
  outputs: string[];
  env?: string[];
  timeout?: string;
  tools?: string[];
}): string {
  const list = (items: string[]) => items.map((i) => `\n    - ${JSON.stringify(i)}`).join('');
  return [
    'build:',
    `  commands:${list(s.commands)}`,
    `  outputs:${list(s.outputs)}`,
    ...(s.env ? [`  env:${list(s.env)}`] : []),
    ...(s.timeout ? [`  timeout: ${s.timeout}`] : []),
    ...(s.tools ? [`  tools:${list(s.tools)}`] : []),
    '',
  ].join('\n');
}

export interface Project {
  repo: string;
  config: string;
}

/** A repository with waybill.yaml (+ `files`) committed and tagged `tag` by `signer`. */
export async function makeProject(
  tmp: string,
  name: string,
  section: string,
  signer: Signer | undefined,
  files: Record<string, string> = {},
  tag = 'v1.2.3',
): Promise<Project> {
  const repo = await makeRepo(
    tmp,
    {
      'waybill.yaml': `${PROJECT_CONFIG}${section}`,
      'src/hello.sh': '#!/bin/sh\necho hello\n',
      '.gitignore': 'dist/\n',
      ...files,
    },
    { name, origin: `https://github.com/example/${name}.git` },
  );
  if (signer) await signedTag(repo, tag, signer);
  else await git(repo, ['tag', '-a', '-m', `release ${tag}`, tag]);
  return { repo, config: join(repo, 'waybill.yaml') };
}

/** Options for `buildRelease` of `project`, trusting `signer`, with private HOME and TMPDIR under `tmp`. */
export async function buildOptions(
  tmp: string,
  project: Project,
  signer: Signer,
  outDir: string,
): Promise<BuildOptions> {
  const config = parseConfigText(await readFile(project.config, 'utf8'), project.config, project.repo);
  const home = join(tmp, 'home');
  const tmpDir = join(tmp, 'tmpdir');
  await mkdir(home, { recursive: true });
  await mkdir(tmpDir, { recursive: true });
  return {
    checkout: project.repo,
    outDir,
    trust:
      signer.kind === 'ssh'
        ? { allowedSignersFile: signer.allowedSignersFile }
        : { trustedGpgKeys: [signer.fingerprint], gnupgHome: signer.gnupgHome },
    settings: resolveSettings(config, {}),
    configFile: project.config,
    build: config.build,
    env: { PATH: process.env.PATH, HOME: home },
    tmpDir,
  };
}

/** A valid kit manifest for `sourceArchive` (the bytes of source.tar) listing `outputs`, for tests of kits. */
export function sampleKitManifest(sourceArchive: Buffer, outputs: KitOutput[]): KitManifest {
  return {
    kitType: 'https://waybill.dev/rebuild-kit/v1',
    name: 'hello',
    version: '1.2.3',
    repository: 'https://github.com/example/hello',
    tag: 'v1.2.3',
    commit: 'c'.repeat(40),
    tagObject: 'd'.repeat(40),
    tree: 'e'.repeat(40),
    configPath: 'waybill.yaml',
    recipe: {
      commands: ['make dist'],
      outputs: ['dist/*.tar.gz'],
      env: ['GOFLAGS'],
      timeout: 600,
      tools: ['make'],
    },
    environment: { LC_ALL: 'C', SOURCE_DATE_EPOCH: '1704164645', TZ: 'UTC', GOFLAGS: '-trimpath' },
    tools: [
      { spec: 'make', name: 'make', path: '/usr/bin/make', sha256: 'f'.repeat(64), version: 'GNU Make 4.3' },
    ],
    sourceArchive: { sha256: sha256Hex(sourceArchive), size: sourceArchive.length },
    outputs,
    stamp: {
      name: 'hello',
      version: '1.2.3',
      architecture: null,
      team: 'Example Release Team',
      contact: null,
      bugTracker: 'https://bugs.example.org',
      docsUrl: null,
      license: 'Apache-2.0',
      disclaimer: null,
      support: null,
      sbomFormat: 'cyclonedx-json',
      built: '2024-01-02T03:04:05Z',
      source: {
        repository: 'https://github.com/example/hello',
        tag: 'v1.2.3',
        commit: 'c'.repeat(40),
        tagObject: 'd'.repeat(40),
        signature: {
          verified: true,
          format: 'ssh',
          signer: 'release@example.org',
          reason: 'good SSH signature',
        },
      },
    },
    builder: { id: 'https://waybill.dev/builder/local', waybill: '0.1.0' },
  };
}

/** Processes still alive whose command line contains `marker` (a unique `sleep` duration), after a short settle. */
export async function survivorsOf(marker: string): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 200));
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (
      /^\d+$/.test(pid) &&
      (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(marker)
    )
      found.push(pid);
  }
  return found;
}

/**
 * `false` when this machine can isolate a recipe in a private mount namespace, else the reason a
 * test that needs isolation is skipped (the snapshot fallback has tests of its own).
 */
export async function isolationSkip(): Promise<false | string> {
  return (await namespaceRuntime(tmpdir()))
    ? false
    : 'no private mount namespace on this machine (the snapshot fallback is tested on its own)';
}
