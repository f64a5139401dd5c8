/**
 * The shape of `waybill.yaml` (version 1): the TypeScript types the rest of waybill uses, and the
 * field specification the loader checks the YAML tree against. Every key is documented in
 * docs/config.md; keep the two in step.
 */
import { parseLicenseExpression } from '../policy/spdx-license.ts';
import { isFullFingerprint } from '../policy/trust.ts';
import { LEVELS, type Level, RULE_IDS, type RuleId } from '../policy/types.ts';
import {
  envNameProblem,
  MAX_TIMEOUT_SECONDS,
  outputPatternProblem,
  toolSpecProblem,
} from '../provenance/build/recipe.ts';

export type { Level, RuleId };

export interface ArtifactEntry {
  /** Path (relative to the config file) or transport reference (`oci-archive:…`, `docker://…`). */
  path: string;
  name?: string;
  version?: string;
}

export interface PolicyConfig {
  rules?: Partial<Record<RuleId, Level>>;
  /** SPDX expressions the release may be licensed under; default `['Apache-2.0']`. */
  allowedLicenses?: string[];
  communityPhrases?: { add?: string[]; replace?: string[] };
  /** Release records must be signed (a Sigstore bundle beside them); see docs/signing.md. */
  requireSignatures?: boolean;
}

/** `build`: how `waybill build` makes the artifacts from a signed tag (docs/build.md). */
export interface BuildConfig {
  commands: string[];
  outputs: string[];
  env?: string[];
  /** Seconds; default 30 minutes. */
  timeout?: number;
  tools?: string[];
  /** SLSA `runDetails.builder.id`; default https://waybill.dev/builder/local. */
  builderId?: string;
}

export interface Config {
  version: 1;
  name?: string;
  /** Architecture for artifacts whose format does not say (plain files and tarballs), e.g. `noarch`. */
  architecture?: string;
  team: { name: string; contact?: string };
  help: { bugTracker: string; docs?: string };
  /** SPDX license expression; `Apache-2.0` when the file does not say. */
  license: string;
  disclaimer?: string;
  support?: string;
  source?: { dir?: string; allowedSigners?: string; trustedGpgKeys?: string[]; sshRevocationFile?: string };
  /**
   * Whom `check -c`, `verify -c` and `inspect -c` trust to sign release tags (policy/trust.ts): the
   * consumer side of `source`, read only when the file is named explicitly.
   */
  trust?: {
    allowedSigners?: string;
    sshRevocationFile?: string;
    gpgKeyring?: string;
    trustedGpgKeys?: string[];
  };
  artifacts?: ArtifactEntry[];
  policy?: PolicyConfig;
  build?: BuildConfig;
  /** Directory of the file the config was loaded from: relative paths in it are relative to this. */
  baseDir?: string;
}

export const DEFAULT_LICENSE = 'Apache-2.0';

/**
 * Field specification, walked by the loader. `expected` texts are what error messages print after
 * "expected", so they are written for a user reading `waybill.yaml:12:3: team.name: expected …`.
 */
export type FieldSpec =
  | { kind: 'string'; expected: string; check?: (value: string) => boolean }
  | { kind: 'literal'; value: number | string; expected: string }
  | { kind: 'boolean'; expected: string }
  | { kind: 'enum'; values: readonly string[]; expected: string }
  | { kind: 'list'; item: FieldSpec; expected: string }
  /** Whole seconds, written as a number or as `90s`, `30m`, `1h30m`; at most `max`. */
  | { kind: 'duration'; max: number; expected: string }
  | {
      kind: 'map';
      fields: Readonly<Record<string, FieldSpec>>;
      required: readonly string[];
      expected: string;
    };

const text: FieldSpec = { kind: 'string', expected: 'a non-empty string' };
const license: FieldSpec = {
  kind: 'string',
  expected: 'an SPDX license expression such as Apache-2.0 or "MIT OR Apache-2.0"',
  check: (v) => parseLicenseExpression(v) !== undefined,
};
const stringList: FieldSpec = { kind: 'list', item: text, expected: 'a list of non-empty strings' };
const level: FieldSpec = { kind: 'enum', values: LEVELS, expected: `one of ${LEVELS.join(', ')}` };

function map(fields: Record<string, FieldSpec>, required: readonly string[] = []): FieldSpec {
  return { kind: 'map', fields, required, expected: 'a mapping' };
}

export const CONFIG_SPEC: FieldSpec = map(
  {
    version: { kind: 'literal', value: 1, expected: '1 (the only config version)' },
    name: text,
    architecture: text,
    team: map({ name: text, contact: text }, ['name']),
    help: map({ bugTracker: text, docs: text }, ['bugTracker']),
    license,
    disclaimer: text,
    support: text,
    source: map({ dir: text, allowedSigners: text, trustedGpgKeys: stringList, sshRevocationFile: text }),
    artifacts: {
      kind: 'list',
      item: map({ path: text, name: text, version: text }, ['path']),
      expected: 'a list of artifacts ({path, name?, version?})',
    },
    trust: map({
      allowedSigners: text,
      sshRevocationFile: text,
      gpgKeyring: text,
      trustedGpgKeys: {
        kind: 'list',
        item: {
          kind: 'string',
          expected: 'a full OpenPGP key fingerprint (40 or 64 hex digits, as gpg --fingerprint prints it)',
          check: isFullFingerprint,
        },
        expected: 'a list of full OpenPGP key fingerprints',
      },
    }),
    build: map(
      {
        commands: { kind: 'list', item: text, expected: 'a list of shell command lines' },
        outputs: {
          kind: 'list',
          item: {
            kind: 'string',
            expected: 'a path or glob relative to the build directory (no "..", not absolute)',
            check: (v) => outputPatternProblem(v) === undefined,
          },
          expected: 'a list of paths or globs',
        },
        env: {
          kind: 'list',
          item: {
            kind: 'string',
            expected:
              'an environment variable name other than PATH, HOME, TMPDIR, SOURCE_DATE_EPOCH, TZ, LC_ALL, PWD, LD_*, DYLD_*, BASH_ENV, ENV, IFS',
            check: (v) => envNameProblem(v) === undefined,
          },
          expected: 'a list of environment variable names',
        },
        timeout: {
          kind: 'duration',
          max: MAX_TIMEOUT_SECONDS,
          expected: 'a duration: seconds, or 90s, 30m, 1h30m (at most 7 days)',
        },
        tools: {
          kind: 'list',
          item: {
            kind: 'string',
            expected: 'a program name on PATH, optionally followed by its version arguments ("go version")',
            check: (v) => toolSpecProblem(v) === undefined,
          },
          expected: 'a list of program names',
        },
        builderId: {
          kind: 'string',
          expected: 'a URI naming the builder',
          check: (v) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(v),
        },
      },
      ['commands', 'outputs'],
    ),
    policy: map({
      rules: map(Object.fromEntries(RULE_IDS.map((id) => [id, level]))),
      allowedLicenses: { kind: 'list', item: license, expected: 'a list of SPDX license expressions' },
      communityPhrases: map({ add: stringList, replace: stringList }),
      requireSignatures: { kind: 'boolean', expected: 'true or false' },
    }),
  },
  ['version', 'team', 'help'],
);
