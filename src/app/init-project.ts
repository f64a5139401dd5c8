/**
 * `waybill init`: writes the commented waybill.yaml and says what makes the checkout ready for the
 * first release. The order matters and is easy to get wrong: waybill.yaml is a new file, so until it
 * is committed the work tree is dirty, and a tag made before that commit points at a commit without
 * it — either way the first `stamp` records the tag as not verified (signed-source).
 */
import { type InitOptions, writeInitConfig } from '../config/init.ts';
import { gitRunner } from '../provenance/git-exec.ts';

export interface InitOutcome {
  /** The file written. */
  path: string;
  /** Whether the directory is inside a git work tree (then `steps` says to commit there). */
  inGitWorkTree: boolean;
  /** What to do next, in order, one line each. */
  steps: string[];
}

async function insideGitWorkTree(dir: string): Promise<boolean> {
  try {
    const result = await gitRunner(dir).run(['rev-parse', '--is-inside-work-tree']);
    return result.code === 0 && result.stdout.toString('utf8').trim() === 'true';
  } catch {
    // No git on PATH: the steps still say what to do.
    return false;
  }
}

/** The steps from a fresh waybill.yaml at `path` to a first stamp that passes signed-source. */
export function initSteps(path: string, inGitWorkTree: boolean): string[] {
  return [
    `edit ${path}: team, help URLs and license; and name who signs release tags (source.allowedSigners for SSH keys, source.trustedGpgKeys for OpenPGP keys)`,
    inGitWorkTree
      ? `commit it: git add ${path} && git commit -m "Add waybill.yaml"`
      : `put ${path} in the project's git repository and commit it`,
    'then tag that commit with a signed tag: git tag -s vX.Y.Z -m vX.Y.Z (after the commit: stamp needs a clean checkout exactly at a signed tag)',
    'build from the tag into a directory git ignores (or outside the checkout: an untracked file, a stamped artifact or its .waybill.json, makes the checkout unclean for the next stamp), then: waybill stamp ARTIFACT',
  ];
}

export async function initProject(
  dir: string,
  options: { force?: boolean; init?: InitOptions } = {},
): Promise<InitOutcome> {
  const path = await writeInitConfig(dir, options);
  const inGitWorkTree = await insideGitWorkTree(dir);
  return { path, inGitWorkTree, steps: initSteps(path, inGitWorkTree) };
}
