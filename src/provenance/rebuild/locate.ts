/**
 * What `rebuild` was given: a rebuild kit, or an artifact whose kit is published next to it. For an
 * artifact, every `*.rebuild.tar` in its directory is opened and the kit that lists it is chosen: by
 * digest first (the kit that made exactly these bytes), else by published name (the artifact was
 * changed after publication, which the rebuild will then show).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isWaybillError, WaybillError } from '../../errors.ts';
import { KIT_SUFFIX, type KitOutput, looksLikeKit, type OpenedKit, openKit } from '../build/kit.ts';
import { outputDigest } from '../build/output-digest.ts';

export interface RebuildTarget {
  kit: OpenedKit;
  /** Set when an artifact was given: the output it is, and its actual digest. */
  artifact?: { path: string; kind: 'file' | 'oci-layout'; sha256: string; output: KitOutput };
}

/**
 * `oci:DIR[:TAG]`, `file:PATH` or a plain path → the path. As skopeo splits `oci:` references, the
 * path ends at the first colon unless the whole rest names something that exists.
 */
async function pathOf(input: string): Promise<string> {
  const m = /^(oci|file|dir):(.*)$/s.exec(input);
  if (!m) return resolve(input);
  const rest = m[2] as string;
  if (m[1] !== 'oci' || (await stat(rest).catch(() => undefined))) return resolve(rest);
  const colon = rest.indexOf(':');
  return resolve(colon === -1 ? rest : rest.slice(0, colon));
}

export async function locateRebuildTarget(input: string): Promise<RebuildTarget> {
  const path = await pathOf(input);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new WaybillError('NOT_FOUND', input, 'no such file or directory');
  // A file named as a kit is opened as one, so a damaged kit says what is wrong with it instead of
  // being taken for an artifact (and every other kit beside it opened in search of its name).
  if (info.isFile() && (path.endsWith(KIT_SUFFIX) || (await looksLikeKit(path))))
    return { kit: await openKit(path) };
  const kind = info.isDirectory() ? 'oci-layout' : 'file';
  const sha256 = await outputDigest(path, kind);
  const name = basename(path);
  const dir = dirname(path);
  const kits = (await readdir(dir)).filter((n) => n.endsWith(KIT_SUFFIX)).sort();
  let byName: { kit: OpenedKit; output: KitOutput } | undefined;
  const unreadable: string[] = [];
  for (const file of kits) {
    let kit: OpenedKit;
    try {
      kit = await openKit(join(dir, file));
    } catch (e) {
      if (!isWaybillError(e)) throw e;
      unreadable.push(`${file} (${e.reason})`);
      continue;
    }
    const exact = kit.manifest.outputs.find((o) => o.published === sha256 && o.kind === kind);
    if (exact) return { kit, artifact: { path, kind, sha256, output: exact } };
    const named = kit.manifest.outputs.find((o) => o.name === name && o.kind === kind);
    if (named && !byName) byName = { kit, output: named };
  }
  if (byName) return { kit: byName.kit, artifact: { path, kind, sha256, output: byName.output } };
  const looked = kits.length === 0 ? `no *${KIT_SUFFIX} file in ${dir}` : `looked at ${kits.join(', ')}`;
  const broken = unreadable.length > 0 ? `; unreadable: ${unreadable.join('; ')}` : '';
  throw new WaybillError(
    'NOT_FOUND',
    input,
    `no rebuild kit next to it lists this artifact (${looked}${broken})`,
  );
}
