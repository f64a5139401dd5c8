/**
 * One flat set of settings for a command: command-line flags override `waybill.yaml`, which
 * overrides the defaults (license Apache-2.0, disclaimer derived from the license, support statement
 * derived from the team and bug tracker). Values are carried, not judged: whether a URL is absolute
 * or a license allowed is the policy's call, so `check` can report it rather than refuse to start.
 */
import { isAbsolute, resolve } from 'node:path';
import type { ConsumerTrust } from '../policy/trust.ts';
import { DEFAULT_ALLOWED_LICENSES, type Policy } from '../policy/types.ts';
import { normalizeKeyId } from '../provenance/gpg-status.ts';
import { defaultDisclaimer, defaultSupportStatement } from '../record/disclaimer.ts';
import { type Config, DEFAULT_LICENSE } from './schema.ts';

export interface SettingsFlags {
  name?: string;
  version?: string;
  architecture?: string;
  team?: string;
  contact?: string;
  bugTracker?: string;
  docsUrl?: string;
  license?: string;
  /** Source checkout directory. */
  source?: string;
  allowedSigners?: string;
  sshRevocationFile?: string;
  trustedGpgKey?: string[];
  /** Path of an SBOM to publish instead of generating one. */
  sbom?: string;
  disclaimer?: string;
  support?: string;
}

export interface Settings {
  /** Name and version given by a flag or (name only) waybill.yaml; see `nameFrom`. */
  name: string | null;
  version: string | null;
  /**
   * Where `name` came from. A flag is an explicit instruction for this run; the config's `name` only
   * fills in for an artifact that does not name itself (app/identity.ts decides).
   */
  nameFrom: 'flag' | 'config' | null;
  /**
   * Where `version` came from: a flag, or (`default`) a caller's guess such as `build`'s tag without
   * its `v`, which, like the config's name, only fills in for an artifact that does not say.
   * Absent: a flag when `version` is set.
   */
  versionFrom?: 'flag' | 'default';
  architecture: string | null;
  team: string | null;
  contact: string | null;
  bugTracker: string | null;
  docsUrl: string | null;
  license: string;
  disclaimer: string | null;
  support: string | null;
  /** Absolute when it came from the config file (resolved against its directory); flags as given. */
  sourceDir: string | null;
  allowedSigners: string | null;
  /** Revoked SSH signing keys; null: the user's global git `gpg.ssh.revocationFile`, if any. */
  sshRevocationFile: string | null;
  trustedGpgKeys: string[];
  sbom: string | null;
  artifacts: { path: string; name: string | null; version: string | null }[];
  policy: Policy;
}

function given(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/** `--flag` first, then the config value, then null. */
function pick(flag: string | undefined, fromConfig: string | undefined): string | null {
  return given(flag) ?? given(fromConfig) ?? null;
}

/**
 * A plain path in the config is relative to the config file; a transport reference (`docker://…`,
 * `oci-archive:…`, `oci:dir:tag`) is kept as written.
 */
function configPath(path: string, baseDir: string | undefined): string {
  if (baseDir === undefined || isAbsolute(path) || /^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
  return resolve(baseDir, path);
}

/** The `trust:` section with its paths resolved against the config file's directory. */
function configTrust(trust: NonNullable<Config['trust']>, base: string | undefined): ConsumerTrust {
  const out: ConsumerTrust = {};
  if (trust.allowedSigners) out.allowedSigners = configPath(trust.allowedSigners, base);
  if (trust.sshRevocationFile) out.sshRevocationFile = configPath(trust.sshRevocationFile, base);
  if (trust.gpgKeyring) out.gpgKeyring = configPath(trust.gpgKeyring, base);
  if (trust.trustedGpgKeys) out.trustedGpgKeys = trust.trustedGpgKeys.map(normalizeKeyId);
  return out;
}

export function resolveSettings(config: Config | undefined, flags: SettingsFlags = {}): Settings {
  const base = config?.baseDir;
  const team = pick(flags.team, config?.team.name);
  const bugTracker = pick(flags.bugTracker, config?.help.bugTracker);
  const license = pick(flags.license, config?.license) ?? DEFAULT_LICENSE;
  const configSource = config?.source?.dir;
  const configSigners = config?.source?.allowedSigners;
  const configRevocations = config?.source?.sshRevocationFile;
  const flagKeys = (flags.trustedGpgKey ?? []).filter((k) => k.trim() !== '');
  const phrases = config?.policy?.communityPhrases;
  const name = pick(flags.name, config?.name);
  return {
    name,
    nameFrom: name === null ? null : given(flags.name) !== undefined ? 'flag' : 'config',
    version: pick(flags.version, undefined),
    architecture: pick(flags.architecture, config?.architecture),
    team,
    contact: pick(flags.contact, config?.team.contact),
    bugTracker,
    docsUrl: pick(flags.docsUrl, config?.help.docs),
    license,
    // Derived texts follow the final license/team, so `--license MIT` never keeps an Apache disclaimer.
    disclaimer: pick(flags.disclaimer, config?.disclaimer) ?? defaultDisclaimer(license),
    support: pick(flags.support, config?.support) ?? defaultSupportStatement(team, bugTracker),
    sourceDir: given(flags.source) ?? (configSource ? configPath(configSource, base) : null),
    allowedSigners: given(flags.allowedSigners) ?? (configSigners ? configPath(configSigners, base) : null),
    sshRevocationFile:
      given(flags.sshRevocationFile) ?? (configRevocations ? configPath(configRevocations, base) : null),
    // Flags replace the configured keys rather than add to them: what is on the command line is what is trusted.
    trustedGpgKeys: flagKeys.length > 0 ? flagKeys : [...(config?.source?.trustedGpgKeys ?? [])],
    sbom: given(flags.sbom) ?? null,
    artifacts: (config?.artifacts ?? []).map((a) => ({
      path: configPath(a.path, base),
      name: a.name ?? null,
      version: a.version ?? null,
    })),
    policy: {
      levels: { ...(config?.policy?.rules ?? {}) },
      allowedLicenses: [...(config?.policy?.allowedLicenses ?? DEFAULT_ALLOWED_LICENSES)],
      ...(phrases ? { communityPhrases: { ...phrases } } : {}),
      ...(config?.policy?.requireSignatures !== undefined
        ? { requireSignatures: config.policy.requireSignatures }
        : {}),
      ...(config?.trust ? { trust: configTrust(config.trust, base) } : {}),
    },
  };
}
