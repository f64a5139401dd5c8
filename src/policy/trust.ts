/**
 * The consumer's trust in release-tag signers, as a policy file or waybill.yaml writes it:
 *
 *   trust:
 *     allowedSigners: ./allowed_signers        # OpenSSH allowed_signers (SSH-signed tags)
 *     sshRevocationFile: ./revoked_keys        # KRL or public keys (ssh-keygen -r)
 *     gpgKeyring: ./release-keys.gpg           # gpg --export FINGERPRINT > FILE
 *     trustedGpgKeys: [0123…CDEF]              # full primary-key fingerprints
 *
 * and as flags (`--allowed-signers`, `--ssh-revocation-file`, `--gpg-keyring`, `--trusted-gpg-key`),
 * which override the file key by key. It is the consumer's: loaded with the consumer's policy
 * (config/consumer-policy.ts), never from the artifact's directory. Relative paths are relative to
 * the file that names them, or to the current directory for flags.
 */
import { isAbsolute, resolve } from 'node:path';
import { WaybillError } from '../errors.ts';
import { normalizeKeyId } from '../provenance/gpg-status.ts';
import type { ConsumerTrust } from '../provenance/source-evidence.ts';
import { statRegularFile } from '../util/regular-file.ts';

export type { ConsumerTrust };

export const TRUST_KEYS = ['allowedSigners', 'sshRevocationFile', 'gpgKeyring', 'trustedGpgKeys'] as const;

/**
 * Whether `value` names an OpenPGP key by its full fingerprint (v4: 40 hex, v5/v6: 64), spaces and
 * colons allowed as gpg prints them. Key ids, long or short, are not accepted: they are not names.
 */
export function isFullFingerprint(value: string): boolean {
  return /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/.test(normalizeKeyId(value));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a `trust:` mapping (parsed YAML). `key` names it in messages (`trust`), `baseDir` resolves
 * relative paths, `fail` makes the caller's error (CONFIG naming the file).
 */
export function parseTrust(
  raw: unknown,
  key: string,
  baseDir: string,
  fail: (reason: string) => WaybillError,
): ConsumerTrust {
  if (!isPlainObject(raw)) throw fail(`${key} must be a mapping of ${TRUST_KEYS.join(', ')}`);
  const trust: ConsumerTrust = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    if (k === 'trustedGpgKeys') {
      if (!Array.isArray(v)) throw fail(`${key}.trustedGpgKeys must be a list of key fingerprints`);
      trust.trustedGpgKeys = v.map((item, i) => {
        if (typeof item !== 'string' || !isFullFingerprint(item)) {
          throw fail(
            `${key}.trustedGpgKeys[${i}] must be a full OpenPGP key fingerprint (40 or 64 hex digits, as gpg --fingerprint prints it)`,
          );
        }
        return normalizeKeyId(item);
      });
      continue;
    }
    if (!(TRUST_KEYS as readonly string[]).includes(k)) {
      throw fail(`unknown key ${key}.${k} (expected one of: ${TRUST_KEYS.join(', ')})`);
    }
    if (typeof v !== 'string' || v.trim() === '') throw fail(`${key}.${k} must be a file path`);
    trust[k as 'allowedSigners' | 'sshRevocationFile' | 'gpgKeyring'] = isAbsolute(v)
      ? v
      : resolve(baseDir, v);
  }
  return trust;
}

export interface TrustFlags {
  allowedSigners?: string;
  sshRevocationFile?: string;
  gpgKeyring?: string;
  trustedGpgKey?: string[];
}

/**
 * The flags on top of the policy's trust, key by key (a flag replaces the file's value; the
 * fingerprints given replace the list). `source` says where the result came from.
 */
export function overlayTrustFlags(
  base: ConsumerTrust | undefined,
  flags: TrustFlags,
  policySource?: string,
): ConsumerTrust {
  const fromFlags: ConsumerTrust = {};
  const path = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : resolve(v));
  const signers = path(flags.allowedSigners);
  const revocation = path(flags.sshRevocationFile);
  const keyring = path(flags.gpgKeyring);
  if (signers) fromFlags.allowedSigners = signers;
  if (revocation) fromFlags.sshRevocationFile = revocation;
  if (keyring) fromFlags.gpgKeyring = keyring;
  const keys = (flags.trustedGpgKey ?? []).filter((k) => k.trim() !== '');
  for (const k of keys) {
    if (!isFullFingerprint(k)) {
      throw new WaybillError(
        'USAGE',
        '--trusted-gpg-key',
        `${JSON.stringify(k)} is not a full OpenPGP key fingerprint (40 or 64 hex digits, as gpg --fingerprint prints it)`,
      );
    }
  }
  if (keys.length > 0) fromFlags.trustedGpgKeys = keys.map(normalizeKeyId);
  const { source: _s, ...configured } = base ?? {};
  const merged: ConsumerTrust = { ...configured, ...fromFlags };
  const fileGave = Object.keys(configured).length > 0;
  const flagsGave = Object.keys(fromFlags).length > 0;
  const source =
    flagsGave && fileGave
      ? `flags over ${policySource ?? 'the policy'}`
      : flagsGave
        ? 'flags'
        : fileGave
          ? (policySource ?? 'the policy')
          : undefined;
  return source === undefined ? merged : { ...merged, source };
}

/**
 * The trust files must be there and be regular files: a consumer who names one and mistypes it must
 * hear so (NOT_FOUND, exit 2), not get a failed verification that looks like the artifact's fault.
 */
export async function assertTrustFiles(
  trust: ConsumerTrust,
  origin: (key: TrustFileKey) => string = (key) => `${key} of ${trust.source ?? 'the trust given'}`,
): Promise<void> {
  for (const key of TRUST_FILE_KEYS) {
    const path = trust[key];
    if (path === undefined) continue;
    try {
      await statRegularFile(path);
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
      // The path alone does not say where to fix it: a flag, or a key of which policy file.
      throw new WaybillError(e.code, e.input, `${e.reason} (named by ${origin(key)})`, { cause: e });
    }
  }
}

/** The trust keys that name a file. */
export const TRUST_FILE_KEYS = ['allowedSigners', 'sshRevocationFile', 'gpgKeyring'] as const;
export type TrustFileKey = (typeof TRUST_FILE_KEYS)[number];

const TRUST_FILE_FLAGS: Record<TrustFileKey, string> = {
  allowedSigners: '--allowed-signers',
  sshRevocationFile: '--ssh-revocation-file',
  gpgKeyring: '--gpg-keyring',
};

/** Where each trust file of `overlayTrustFlags(policy, flags, policySource)` was named. */
export function trustFileOrigin(flags: TrustFlags, policySource?: string): (key: TrustFileKey) => string {
  return (key) =>
    flags[key] !== undefined && flags[key].trim() !== ''
      ? TRUST_FILE_FLAGS[key]
      : `trust.${key} in ${policySource ?? 'the policy'}`;
}

/** Whether any trust in tag signers was given at all. */
export function hasTrust(trust: ConsumerTrust | undefined): boolean {
  return (
    trust !== undefined &&
    (trust.allowedSigners !== undefined ||
      trust.gpgKeyring !== undefined ||
      (trust.trustedGpgKeys ?? []).length > 0)
  );
}
