/**
 * The policy a consumer judges an artifact by. A consumer's policy is the consumer's: `check` (and
 * every command that judges what someone else published) never takes it from the artifact's
 * directory, the current directory or its parents — a release bundle or a cloned repository could
 * otherwise ship a `waybill.yaml` that switches every rule off. It comes, first match wins, from:
 *
 *   1. `--policy FILE` (the flag);
 *   2. `-c FILE` / `--config FILE`: the `policy:` section of a project config the user named
 *      explicitly (a choice made on the command line, like --policy; `--policy` then overrides it
 *      key by key);
 *   3. `$WAYBILL_POLICY`, a policy file;
 *   4. the user's config directory: `$XDG_CONFIG_HOME/waybill/policy.yaml`, `$XDG_CONFIG_HOME`
 *      defaulting to `~/.config` (XDG Base Directory spec; a relative value is ignored, as the spec
 *      says);
 *   5. the built-in defaults: every rule at level `fail`, licenses `[Apache-2.0]`.
 *
 * The Policy carries `source` (the file, or `built-in defaults`), which the report states.
 * Producer commands (`stamp`, `init`) read the project's own waybill.yaml instead (cli/common.ts).
 */
import { lstat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { WaybillError } from '../errors.ts';
import { parsePolicy } from '../policy/policy-file.ts';
import { BUILT_IN_POLICY, defaultPolicy, type Policy } from '../policy/types.ts';
import { loadConfig, readConfigText } from './load.ts';
import { resolveSettings } from './merge.ts';

export const POLICY_ENV = 'WAYBILL_POLICY';

export interface ConsumerPolicyOptions {
  /** `--policy FILE`. */
  policyFile?: string;
  /** `-c FILE`: a project config named on the command line. */
  configFile?: string;
  /** Where WAYBILL_POLICY, XDG_CONFIG_HOME and HOME are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The home directory when HOME is unset; default os.homedir(). */
  home?: string;
}

/** `$XDG_CONFIG_HOME/waybill/policy.yaml`, else `~/.config/waybill/policy.yaml`. */
export function userPolicyPath(env: NodeJS.ProcessEnv = process.env, home?: string): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'waybill', 'policy.yaml');
  const dir = env.HOME || home || homedir();
  return dir ? join(dir, '.config', 'waybill', 'policy.yaml') : undefined;
}

/** A policy file (`rules`, `allowedLicenses`, `communityPhrases`), its source set to its path. */
export async function readPolicyFile(path: string): Promise<Policy> {
  const text = await readConfigText(path);
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new WaybillError('CONFIG', path, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return { ...parsePolicy(raw, path, '', dirname(resolve(path))), source: resolve(path) };
}

/**
 * `override`'s keys on top of `base`: rule levels and trust keys merged, the other keys replaced
 * when given.
 */
export function overlayPolicy(base: Policy, override: Policy, source: string): Policy {
  const phrases = override.communityPhrases ?? base.communityPhrases;
  const requireSignatures = override.requireSignatures ?? base.requireSignatures;
  const trust = base.trust || override.trust ? { ...base.trust, ...override.trust } : undefined;
  return {
    levels: { ...base.levels, ...override.levels },
    allowedLicenses: override.allowedLicenses,
    ...(phrases ? { communityPhrases: phrases } : {}),
    ...(requireSignatures !== undefined ? { requireSignatures } : {}),
    ...(trust ? { trust } : {}),
    source,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The consumer's policy, from the first place in the list above that has one. */
export async function loadConsumerPolicy(options: ConsumerPolicyOptions = {}): Promise<Policy> {
  const env = options.env ?? process.env;
  let base: Policy | undefined;
  if (options.configFile) {
    const path = resolve(options.configFile);
    base = { ...resolveSettings(await loadConfig(path)).policy, source: path };
  }
  if (options.policyFile) {
    const file = await readPolicyFile(options.policyFile);
    return base ? overlayPolicy(base, file, `${file.source} (over ${base.source})`) : file;
  }
  if (base) return base;
  const fromEnv = env[POLICY_ENV];
  if (fromEnv) return readPolicyFile(fromEnv);
  const user = userPolicyPath(env, options.home);
  // Present (even as a broken link or a directory) means meant: read it, and report what is wrong.
  if (user && (await exists(user))) return readPolicyFile(user);
  return { ...defaultPolicy(), source: BUILT_IN_POLICY };
}
