/**
 * `waybill init`: a starting `waybill.yaml` in which every key is explained by a comment, with
 * realistic example values. Optional keys are present but commented out, so the file loads as is and
 * a user enables what they need.
 */
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { writeFailed, writeFileAtomic } from '../util/atomic-write.ts';
import { CONFIG_FILE_NAME } from './load.ts';

export interface InitOptions {
  name?: string;
  team?: string;
  contact?: string;
  bugTracker?: string;
  docs?: string;
  license?: string;
}

/**
 * A YAML scalar for a value: plain when that cannot be misread (no `: `, ` #`, leading indicator,
 * or a word YAML would turn into a bool/null/number), else a double-quoted JSON string, which YAML 1.2
 * reads back unchanged.
 */
export function yamlScalar(value: string): string {
  const plain =
    /^[A-Za-z][A-Za-z0-9 ._@/+,()~=-]*$/.test(value) &&
    !/\s$/.test(value) &&
    !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(value) &&
    !/[:#]/.test(value);
  if (plain) return value;
  // URLs are common and safe plain when they contain no ` #` or `: ` sequence.
  // (A trailing `:` would start a mapping, so such a URL is quoted.)
  if (/^[a-z][a-z0-9+.-]*:\/\/[^\s#]*[^\s#:]$/i.test(value)) return value;
  return JSON.stringify(value);
}

export function initConfigText(opts: InitOptions = {}): string {
  const name = opts.name;
  const team = yamlScalar(opts.team ?? 'Example Release Team');
  const contact = yamlScalar(opts.contact ?? 'release-team@example.org');
  const bugTracker = yamlScalar(opts.bugTracker ?? 'https://github.com/example/hello/issues');
  const docs = yamlScalar(opts.docs ?? 'https://example.org/hello/docs');
  const license = yamlScalar(opts.license ?? 'Apache-2.0');
  return `# waybill.yaml: how this project publishes its binaries. Reference: docs/config.md
# Command-line flags override these values; relative paths are relative to this file.

# Config format version. Always 1.
version: 1

# Name of the released software, only for artifacts that do not name themselves (a plain
# tarball, a directory). Packages and images carry their own name and version (deb Package, wheel
# Name, an image's tag…), which always win: leave this unset unless you stamp such artifacts.
${name === undefined ? `# name: hello` : `name: ${yamlScalar(name)}`}

# Who releases the artifacts: the team that builds, signs and answers for them.
# Name the team, not the whole community or a foundation.
team:
  name: ${team}
  # How to reach the team: an e-mail address or a URL.
  contact: ${contact}

# Where users go for help.
help:
  # Bug tracker URL (https). Required: every release must say where problems are reported.
  bugTracker: ${bugTracker}
  # Documentation URL (https).
  docs: ${docs}

# SPDX license expression of the artifacts. Default: Apache-2.0.
license: ${license}

# Warranty disclaimer recorded with each release. Default: derived from the license
# (for Apache-2.0 a summary of its sections 7 and 8).
# disclaimer: "This software is provided as is, without warranty of any kind."

# Support statement recorded with each release. Default: "Support, if any, is offered by <team>
# only, through <bug tracker>; no other person or organisation offers or implies support for
# this artifact."
# support: "Support, if any, is offered by Example Release Team only, through the bug tracker."

# Where the artifacts were built from: a git checkout whose HEAD is a signed release tag.
source:
  # The checkout directory. Default: the current directory.
  dir: .
  # Who may sign release tags; stamp records a tag as verified only when its signer is named here
  # (or with --allowed-signers / --trusted-gpg-key). Set one of the two.
  # OpenSSH allowed_signers file (for SSH-signed tags): lines of "principal key-type key".
  # allowedSigners: .github/allowed_signers
  # OpenPGP fingerprints of keys trusted to sign release tags (for GPG-signed tags).
  # trustedGpgKeys:
  #   - 0123456789ABCDEF0123456789ABCDEF01234567

# Artifacts published by \`waybill publish\` when no artifact is named on the command line.
# path: a file, a directory, or a reference (oci-archive:…, docker://…); name/version override
# what the artifact says about itself.
# artifacts:
#   - path: dist/hello_1.2.3_amd64.deb
#   - path: dist/hello-1.2.3-linux-amd64.tar.gz
#     name: hello
#     version: 1.2.3

# How \`waybill build\` makes the artifacts from the signed tag (docs/build.md). The commands run in a
# clean export of the tagged tree with a scrubbed environment; \`waybill rebuild\` runs them again.
# build:
#   # Shell command lines, run in order by /bin/sh -c in the exported tree.
#   commands:
#     - make dist
#   # Paths or globs, relative to the tree, of the files (or OCI layout directories) to publish.
#   outputs:
#     - dist/*.tar.gz
#   # Variables passed through from your environment (recorded with their values: never a secret).
#   # env: [GOFLAGS]
#   # The whole recipe is killed after this long. Default: 30m.
#   # timeout: 30m
#   # Programs whose version and digest are recorded in the provenance ("NAME" or "NAME ARGS").
#   # tools: [make, "go version"]

# The release policy checked by \`waybill check\` and before \`waybill publish\`.
policy:
  # Level of each of the seven rules: fail (the check fails), warn (reported only) or off.
  rules:
    identity: fail
    manifest: fail
    dates: fail
    signed-source: fail
    team: fail
    help: fail
    support: fail
  # Licenses the artifacts may be released under (SPDX). Default: [Apache-2.0].
  allowedLicenses:
    - Apache-2.0
  # Wording that claims the whole community produced or supports the release (team rule).
  # communityPhrases:
  #   add: ["the whole project community"]      # extend the built-in list
  #   replace: ["brought to you by everyone"]   # or replace it
`;
}

/**
 * Writes `waybill.yaml` into `dir` and returns its path. Without `force` an existing file is never
 * touched (util/atomic-write.ts `noClobber`); with it a regular file is replaced, never a link.
 */
export async function writeInitConfig(
  dir: string,
  options: { force?: boolean; init?: InitOptions } = {},
): Promise<string> {
  const target = join(dir, CONFIG_FILE_NAME);
  const text = initConfigText(options.init);
  try {
    await writeFileAtomic(target, text, { noClobber: !options.force });
  } catch (e) {
    if (e instanceof WaybillError && e.code === 'USAGE' && e.reason === 'already exists')
      throw new WaybillError('USAGE', target, 'already exists; use --force to overwrite it');
    throw writeFailed(e, target);
  }
  return target;
}
