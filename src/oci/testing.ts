/**
 * Test helpers for src/oci: real images built with umoci (the reference OCI layout tool) and checked
 * with skopeo. Not used by library code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarBuffer } from '../archive/tar-writer.ts';

export function haveTools(...tools: string[]): string | undefined {
  for (const tool of tools) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

export function tempDir(prefix = 'waybill-oci-'): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

export function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface UmociImageOptions {
  architecture?: string;
  variant?: string;
  labels?: Record<string, string>;
  /** Files for one layer, added with `umoci raw add-layer`. */
  files?: Record<string, string>;
}

/** Creates (or adds to) the layout `layout` an image tagged `tag`, using umoci. */
export async function umociImage(
  layout: string,
  tag: string,
  options: UmociImageOptions = {},
): Promise<void> {
  if (spawnSync('test', ['-e', join(layout, 'oci-layout')]).status !== 0)
    run('umoci', ['init', '--layout', layout]);
  const image = `${layout}:${tag}`;
  run('umoci', ['new', '--image', image]);
  if (options.files) {
    const entries = Object.keys(options.files)
      .sort()
      .map((path) => ({ path, data: options.files![path]! }));
    const layerFile = join(layout, '..', `layer-${tag}.tar`);
    writeFileSync(layerFile, await tarBuffer(entries, { mtime: 1_700_000_000 }));
    run('umoci', ['raw', 'add-layer', '--image', image, layerFile]);
    rmSync(layerFile);
  }
  const args = [
    'config',
    '--image',
    image,
    '--architecture',
    options.architecture ?? 'amd64',
    '--os',
    'linux',
  ];
  for (const [k, v] of Object.entries(options.labels ?? {})) args.push('--config.label', `${k}=${v}`);
  // umoci stamps the current time as `created`; fix it so digests are reproducible.
  args.push('--created', '2024-01-02T03:04:05Z', '--history.created', '2024-01-02T03:04:05Z');
  run('umoci', args);
}

export interface SkopeoInspect {
  Digest: string;
  Labels: Record<string, string> | null;
  Architecture: string;
  RepoTags: string[];
  Layers: string[];
}

export function skopeoInspect(ref: string, ...extra: string[]): SkopeoInspect {
  return JSON.parse(run('skopeo', ['inspect', ...extra, ref])) as SkopeoInspect;
}

export function skopeoRaw(ref: string): Record<string, unknown> {
  return JSON.parse(run('skopeo', ['inspect', '--raw', ref])) as Record<string, unknown>;
}
