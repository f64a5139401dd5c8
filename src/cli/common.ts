/**
 * Options shared by several commands: where the settings come from (waybill.yaml, then flags) and
 * how output is rendered.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { findConfig, loadConfig } from '../config/load.ts';
import { resolveSettings, type Settings, type SettingsFlags } from '../config/merge.ts';
import type { Config } from '../config/schema.ts';
import { WaybillError } from '../errors.ts';
import { parsePolicy } from '../policy/policy-file.ts';

export interface ConfigOptions {
  config?: string;
  policy?: string;
}

export function addConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'project configuration (default: ./waybill.yaml when present)')
    .option('--policy <file>', 'policy override (YAML): rule levels, allowed licenses, community phrases');
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
  const settings = await applyPolicyFile(resolveSettings(config, flags), options);
  return { settings, configPath: path, config };
}

async function applyPolicyFile(settings: Settings, options: ConfigOptions): Promise<Settings> {
  if (options.policy) {
    const text = await readFile(options.policy, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new WaybillError(
        'NOT_FOUND',
        options.policy!,
        e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code})`,
      );
    });
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (e) {
      throw new WaybillError(
        'CONFIG',
        options.policy,
        `not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    const override = parsePolicy(raw, options.policy);
    settings.policy = {
      levels: { ...settings.policy.levels, ...override.levels },
      allowedLicenses: override.allowedLicenses,
      communityPhrases: override.communityPhrases ?? settings.policy.communityPhrases,
      ...((override.requireSignatures ?? settings.policy.requireSignatures) !== undefined
        ? { requireSignatures: override.requireSignatures ?? settings.policy.requireSignatures }
        : {}),
    };
  }
  return settings;
}

export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}
