/**
 * Options shared by several commands: where the settings and the policy come from, and how output
 * is rendered. Producer commands (`stamp`) read the project's waybill.yaml; consumer commands
 * (`check`) judge by the consumer's own policy (config/consumer-policy.ts), never by a file that
 * happens to sit in the current directory.
 */
import type { Command } from 'commander';
import { loadConsumerPolicy, overlayPolicy, readPolicyFile } from '../config/consumer-policy.ts';
import { findConfig, loadConfig } from '../config/load.ts';
import { resolveSettings, type Settings, type SettingsFlags } from '../config/merge.ts';
import type { Config } from '../config/schema.ts';
import {
  assertTrustFiles,
  type ConsumerTrust,
  hasTrust,
  overlayTrustFlags,
  type TrustFlags,
  trustFileOrigin,
} from '../policy/trust.ts';
import { BUILT_IN_POLICY, type Policy } from '../policy/types.ts';
import { escapeForTerminal } from '../util/terminal-escape.ts';

export interface ConfigOptions {
  config?: string;
  policy?: string;
}

/** `-c` and `--policy` of a producer command: the project's configuration. */
export function addConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'project configuration (default: ./waybill.yaml when present)')
    .option('--policy <file>', 'policy override (YAML): rule levels, allowed licenses, community phrases');
}

/** `-c` and `--policy` of a consumer command: the policy is the consumer's, never the artifact's. */
export function addConsumerPolicyOptions(command: Command): Command {
  return command
    .option(
      '--policy <file>',
      'policy file (YAML; default: $WAYBILL_POLICY, else ~/.config/waybill/policy.yaml, else built-in)',
    )
    .option('-c, --config <file>', "judge by this project config's policy section (never read implicitly)");
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The consumer's trust in release-tag signers, for commands that re-verify a record's source
 * evidence (check, verify, inspect). Flags override the policy file's `trust:` key by key.
 */
export function addTrustOptions(command: Command): Command {
  return command
    .option('--allowed-signers <file>', 'SSH allowed signers you trust to sign release tags (OpenSSH format)')
    .option('--ssh-revocation-file <file>', 'revoked SSH signing keys (KRL or public keys)')
    .option('--gpg-keyring <file>', 'OpenPGP public keys you trust (gpg --export FINGERPRINT > FILE)')
    .option(
      '--trusted-gpg-key <fingerprint>',
      'full fingerprint of an OpenPGP primary key you trust to sign release tags (repeatable)',
      collect,
    );
}

/** The trust flags over the policy's `trust:` section; a named trust file that is not there is an error. */
export async function consumerTrust(policy: Policy, flags: TrustFlags): Promise<ConsumerTrust> {
  const trust = overlayTrustFlags(policy.trust, flags, policy.source);
  await assertTrustFiles(trust, trustFileOrigin(flags, policy.source));
  return trust;
}

/**
 * A producer command's trust in its own release tags (`publish` re-checks what `stamp` recorded): the
 * trust flags over the project's `trust:` section, and failing both, the signers `stamp --source`
 * verifies the tag with (`source.allowedSigners`, `source.sshRevocationFile`, `source.trustedGpgKeys`).
 */
export async function publisherTrust(settings: Settings, flags: TrustFlags): Promise<ConsumerTrust> {
  const trust = overlayTrustFlags(settings.policy.trust, flags, settings.policy.source);
  if (hasTrust(trust) || settings.allowedSigners === null) {
    await assertTrustFiles(trust, trustFileOrigin(flags, settings.policy.source));
    return trust;
  }
  const fromSource: ConsumerTrust = {
    allowedSigners: settings.allowedSigners,
    ...(settings.sshRevocationFile ? { sshRevocationFile: settings.sshRevocationFile } : {}),
    source: 'source.allowedSigners of the project config',
  };
  await assertTrustFiles(fromSource, (key) => `source.${key} of the project config`);
  return fromSource;
}

export function addFormatOption(command: Command, formats: readonly string[]): Command {
  return command.option('-f, --format <format>', `output format: ${formats.join(', ')}`, formats[0]);
}

/** Settings from the config file (explicit, or ./waybill.yaml if present) with flags on top. */
export async function loadSettings(options: ConfigOptions, flags: SettingsFlags = {}): Promise<Settings> {
  return (await loadProject(options, flags)).settings;
}

/** The settings, and the config file they came from (`build` needs the file itself). */
export async function loadProject(
  options: ConfigOptions,
  flags: SettingsFlags = {},
): Promise<{ settings: Settings; configPath: string | undefined; config: Config | undefined }> {
  const path = options.config ?? (await findConfig(process.cwd()));
  const config = path ? await loadConfig(path) : undefined;
  const settings = resolveSettings(config, flags);
  settings.policy.source = path ?? BUILT_IN_POLICY;
  if (options.policy) {
    const override = await readPolicyFile(options.policy);
    settings.policy = path
      ? overlayPolicy(settings.policy, override, `${override.source} (over ${path})`)
      : override;
  }
  return { settings, configPath: path, config };
}

/** The consumer's policy: --policy, an explicit -c, $WAYBILL_POLICY, the user's policy.yaml, built-in. */
export function consumerPolicy(options: ConfigOptions): Promise<Policy> {
  return loadConsumerPolicy({
    ...(options.policy ? { policyFile: options.policy } : {}),
    ...(options.config ? { configFile: options.config } : {}),
  });
}

/** The "policy: …" line shown on stderr with a text verdict. */
export function policyLine(policy: Policy): string {
  return `policy: ${escapeForTerminal(policy.source ?? BUILT_IN_POLICY)}\n`;
}

export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}
