/**
 * Reads GnuPG `--status-fd` lines (what `git verify-tag --raw` prints) into one verification outcome.
 *
 * gnupg doc/DETAILS, "General status codes": for each signature exactly one of GOODSIG, EXPSIG,
 * EXPKEYSIG, REVKEYSIG, BADSIG or ERRSIG is emitted; VALIDSIG <fpr> … [<primary-key-fpr>] follows a
 * cryptographically valid signature and carries the full fingerprints (GOODSIG only has a key id).
 * Trust lines (TRUST_*) are ignored on purpose: whether a key is trusted is waybill's policy, not the
 * local keyring's web of trust.
 */

export type GpgOutcome =
  | {
      kind: 'good';
      /** Fingerprint of the key (maybe a subkey) that made the signature. */
      fingerprint: string;
      /** Fingerprint of its primary key (same as `fingerprint` when no subkey was used). */
      primaryFingerprint: string;
      userId: string;
    }
  | { kind: 'bad'; keyId: string; userId: string }
  | { kind: 'expired-signature'; keyId: string; userId: string }
  | { kind: 'expired-key'; keyId: string; userId: string }
  | { kind: 'revoked-key'; keyId: string; userId: string }
  | { kind: 'missing-key'; keyId: string }
  | { kind: 'error'; detail: string }
  | { kind: 'none' }
  | { kind: 'multiple'; count: number };

const PREFIX = '[GNUPG:] ';
const RESULT_KEYWORDS = new Set(['GOODSIG', 'EXPSIG', 'EXPKEYSIG', 'REVKEYSIG', 'BADSIG', 'ERRSIG']);
const HEX_FINGERPRINT = /^[0-9A-Fa-f]{32,64}$/;

interface StatusLine {
  keyword: string;
  args: string[];
  /** Everything after the keyword, for fields that may contain spaces (user ids). */
  rest: string;
}

function statusLines(text: string): StatusLine[] {
  const lines: StatusLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.startsWith(PREFIX)) continue;
    const body = line.slice(PREFIX.length);
    const space = body.indexOf(' ');
    const keyword = space === -1 ? body : body.slice(0, space);
    const rest = space === -1 ? '' : body.slice(space + 1);
    lines.push({ keyword, rest, args: rest.split(' ').filter((a) => a !== '') });
  }
  return lines;
}

/** `<keyid> <user id with spaces>` → parts. */
function keyAndUser(rest: string): { keyId: string; userId: string } {
  const space = rest.indexOf(' ');
  return space === -1
    ? { keyId: rest, userId: '' }
    : { keyId: rest.slice(0, space), userId: rest.slice(space + 1) };
}

export function parseGpgStatus(text: string): GpgOutcome {
  const lines = statusLines(text);
  const results = lines.filter((l) => RESULT_KEYWORDS.has(l.keyword));
  // A signature block with several signatures: which one "counts" is ambiguous, so refuse.
  const signatures = Math.max(results.length, lines.filter((l) => l.keyword === 'NEWSIG').length);
  if (signatures > 1) return { kind: 'multiple', count: signatures };
  const result = results[0];
  if (!result) {
    const error = lines.find(
      (l) => l.keyword === 'ERROR' || l.keyword === 'FAILURE' || l.keyword === 'NODATA',
    );
    return error ? { kind: 'error', detail: `${error.keyword} ${error.rest}`.trim() } : { kind: 'none' };
  }
  const { keyId, userId } = keyAndUser(result.rest);
  switch (result.keyword) {
    case 'GOODSIG': {
      const valid = lines.find((l) => l.keyword === 'VALIDSIG');
      const fingerprint = valid?.args[0];
      if (!valid || !fingerprint || !HEX_FINGERPRINT.test(fingerprint)) {
        return { kind: 'error', detail: 'GOODSIG without a VALIDSIG fingerprint' };
      }
      // Field 10 is optional and only present for OpenPGP; without it the signing key is primary.
      const primary = valid.args[9];
      const primaryFingerprint = primary && HEX_FINGERPRINT.test(primary) ? primary : fingerprint;
      return {
        kind: 'good',
        fingerprint: fingerprint.toUpperCase(),
        primaryFingerprint: primaryFingerprint.toUpperCase(),
        userId,
      };
    }
    case 'BADSIG':
      return { kind: 'bad', keyId, userId };
    case 'EXPSIG':
      return { kind: 'expired-signature', keyId, userId };
    case 'EXPKEYSIG':
      return { kind: 'expired-key', keyId, userId };
    case 'REVKEYSIG':
      return { kind: 'revoked-key', keyId, userId };
    default: {
      // ERRSIG <keyid> <pkalgo> <hashalgo> <sig_class> <time> <rc> [<fpr>]; rc 9 = no public key.
      const rc = result.args[5];
      const fingerprint = result.args[6];
      const id = fingerprint && HEX_FINGERPRINT.test(fingerprint) ? fingerprint.toUpperCase() : keyId;
      if (rc === '9') return { kind: 'missing-key', keyId: id };
      if (rc === '4') return { kind: 'error', detail: `unsupported signature algorithm (key ${id})` };
      return { kind: 'error', detail: `gpg could not check the signature (key ${id}, error ${rc ?? '?'})` };
    }
  }
}

/** Canonical form of a configured key: hex only, upper case (`0x`, spaces and colons removed). */
export function normalizeKeyId(key: string): string {
  return key.trim().replace(/^0x/i, '').replace(/[\s:]/g, '').toUpperCase();
}

/**
 * Whether the signing key is in the trusted list. A full fingerprint must match the signing key or
 * its primary key; a shorter entry matches as a key-id suffix only when it is at least a long key id
 * (16 hex digits): 8-digit short ids are trivially collidable.
 */
export function isTrustedGpgKey(
  trusted: readonly string[],
  signer: { fingerprint: string; primaryFingerprint: string },
): string | null {
  const candidates = [signer.primaryFingerprint.toUpperCase(), signer.fingerprint.toUpperCase()];
  for (const entry of trusted) {
    const key = normalizeKeyId(entry);
    if (!/^[0-9A-F]+$/.test(key) || key.length < 16) continue;
    for (const fpr of candidates) {
      if (fpr === key || (key.length < fpr.length && fpr.endsWith(key))) return fpr;
    }
  }
  return null;
}

/** `FPR (user id)`, the signer as records and reports name it. */
export function gpgSigner(outcome: Extract<GpgOutcome, { kind: 'good' }>): string {
  return outcome.userId ? `${outcome.primaryFingerprint} (${outcome.userId})` : outcome.primaryFingerprint;
}

/**
 * One line saying why a signature is not good, or undefined for a good one and for `none` (gpg said
 * nothing: the caller names what it ran).
 */
export function gpgFailureReason(outcome: GpgOutcome): string | undefined {
  switch (outcome.kind) {
    case 'bad':
      return `bad OpenPGP signature (key ${outcome.keyId}): the tag object does not match what was signed`;
    case 'expired-signature':
      return `OpenPGP signature by key ${outcome.keyId} has expired`;
    case 'expired-key':
      return `OpenPGP signature was made by key ${outcome.keyId}, which has expired`;
    case 'revoked-key':
      return `OpenPGP signature was made by key ${outcome.keyId}, which is revoked`;
    case 'missing-key':
      return `OpenPGP signature by key ${outcome.keyId}, whose public key is not in the keyring`;
    case 'multiple':
      return `tag carries ${outcome.count} OpenPGP signatures; expected exactly one`;
    case 'error':
      return `OpenPGP signature could not be checked: ${outcome.detail}`;
    default:
      return undefined;
  }
}
