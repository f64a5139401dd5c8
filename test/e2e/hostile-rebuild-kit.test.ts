/**
 * End to end through the real CLI: `waybill rebuild` given a rebuild kit an attacker wrote. What the
 * kit makes this machine run must be shown in full before anything runs (the tools' version commands
 * included: `sh -c …` in `build.tools` is code), and a hostile source archive is refused with one
 * line, exit 2, nothing written outside the private build directory.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TarEntryInput, tarBuffer } from '../../src/archive/tar-writer.ts';
import { type KitManifest, serializeKitManifest } from '../../src/provenance/build/kit.ts';
import { sampleKitManifest } from '../../src/provenance/build/testing.ts';
import { waybill } from '../helpers/cli.ts';

let dir: string;
let victim: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'waybill-hostile-kit-'));
  victim = join(dir, 'victim');
  mkdirSync(victim);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A kit holding `source` as its source archive, with the manifest changed by `edit`. */
async function writeKitFile(
  name: string,
  source: TarEntryInput[],
  edit: (m: KitManifest) => void = () => undefined,
): Promise<string> {
  const archive = await tarBuffer(source);
  const manifest = sampleKitManifest(archive, [
    {
      path: 'dist/hello.txt',
      name: 'hello.txt',
      kind: 'file',
      built: 'a'.repeat(64),
      published: 'a'.repeat(64),
    },
  ]);
  manifest.recipe = { commands: ['true'], outputs: ['dist/hello.txt'], env: [], timeout: 60, tools: [] };
  manifest.environment = { LC_ALL: 'C', SOURCE_DATE_EPOCH: '1704164645', TZ: 'UTC' };
  manifest.tools = [];
  edit(manifest);
  const path = join(dir, `${name}.rebuild.tar`);
  writeFileSync(
    path,
    await tarBuffer([
      { path: 'waybill-rebuild-kit.json', data: serializeKitManifest(manifest) },
      { path: 'waybill.yaml', data: 'version: 1\n' },
      { path: 'source.tar', data: archive },
    ]),
  );
  return path;
}

describe('what a kit makes this machine run is shown before it runs', () => {
  test('a tool version command with arguments is shown in full, escaped, and runs only when trusted', async () => {
    const marker = join(dir, 'tool-ran');
    const kit = await writeKitFile('tool', [{ path: 'README', data: 'x' }], (m) => {
      m.recipe.tools = [`sh -c touch\${IFS}${marker}`, 'env \u001b[2J'];
      // The builder's record lists nothing: the display must not rely on it.
      m.tools = [];
    });
    const shown = await waybill(['rebuild', kit, '--show-recipe']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^ {4}1\. sh -c touch\$\{IFS\}\S+tool-ran$/m);
    assert.match(shown.stdout, /^ {4}2\. env \\x1b\[2J$/m);
    assert.ok(!shown.stdout.includes('\u001b'), shown.stdout);

    const refused = await waybill(['rebuild', kit]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^ {4}1\. sh -c touch\$\{IFS\}\S+tool-ran$/m);
    assert.match(refused.stderr, /pass --trust-recipe to run them$/m);
    assert.equal(existsSync(marker), false, 'a tool command ran without --trust-recipe');
  });
});

describe('a hostile source archive: one line, exit 2, nothing outside the build directory', () => {
  const cases: [string, TarEntryInput[], RegExp][] = [
    [
      'a file through a symlink to a directory outside',
      [
        { path: 'out', type: 'symlink', linkTarget: '@VICTIM@' },
        { path: 'out/pwned', data: 'x' },
      ],
      /entry "out\/pwned" lies under the symlink "out"$/,
    ],
    [
      'a file replacing a symlink to a file outside',
      [
        { path: 'f', type: 'symlink', linkTarget: '@VICTIM@/pwned' },
        { path: 'f', data: 'x' },
      ],
      /entry "f" collides with an earlier entry$/,
    ],
    [
      'a symlink chain climbing out',
      [
        { path: 'a', type: 'symlink', linkTarget: '.' },
        { path: 'b', type: 'symlink', linkTarget: 'a/../../../../../../../@VICTIM@' },
        { path: 'b/pwned', data: 'x' },
      ],
      /entry "b\/pwned" lies under the symlink "b"$/,
    ],
    [
      'a hard link to a file outside',
      [{ path: 'h', type: 'hardlink', linkTarget: '@VICTIM@/../x' }],
      /hard link/,
    ],
    ['a .git directory', [{ path: '.GIT/config', data: '[core]\n' }], /inside a \.git directory$/],
  ];
  for (const [what, entries, expected] of cases) {
    test(what, async () => {
      const source = entries.map((e) =>
        e.linkTarget ? { ...e, linkTarget: e.linkTarget.replace('@VICTIM@', victim) } : e,
      );
      const kit = await writeKitFile(what.replace(/\W+/g, '-'), source);
      const r = await waybill(['rebuild', kit, '--trust-recipe', '-q']);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /^waybill: \S+\.rebuild\.tar: source\.tar: /);
      assert.match(lines[0] ?? '', expected);
      assert.deepEqual(readdirSync(victim), []);
    });
  }
});

test('a damaged kit given by name says what is wrong with it, not "no kit lists this artifact"', async () => {
  await writeKitFile('neighbour', [{ path: 'README', data: 'x' }]);
  const damaged = join(dir, 'damaged.rebuild.tar');
  // A valid kit manifest member, then an entry whose pax header claims 64 MiB.
  const kit = await tarBuffer([{ path: 'waybill-rebuild-kit.json', data: '{}' }]);
  const pax = Buffer.alloc(512);
  pax.write('PaxHeaders/x', 0);
  pax.write('0000644\0', 100);
  pax.write('00400000000\0', 124); // 64 MiB, octal
  pax.write('x', 156);
  pax.write('ustar\x0000', 257);
  pax.fill(' ', 148, 156);
  let sum = 0;
  for (const b of pax) sum += b;
  pax.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  writeFileSync(damaged, Buffer.concat([kit.subarray(0, kit.length - 1024), pax, Buffer.alloc(1024)]));
  const r = await waybill(['rebuild', damaged, '--show-recipe']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^waybill: \S+damaged\.rebuild\.tar: /);
  assert.doesNotMatch(r.stderr, /no rebuild kit next to it|neighbour/);
});
