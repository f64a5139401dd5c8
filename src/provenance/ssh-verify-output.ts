/**
 * Reads what `ssh-keygen -Y verify` and `-Y check-novalidate` print into one outcome (the same lines
 * `git verify-tag` passes through; ssh-signature.ts runs ssh-keygen itself).
 *
 * `ssh-keygen -Y verify -n git -I <principal>` prints `Good "git" signature for <principal> with
 * <TYPE> key SHA256:<fp>`; `-Y check-novalidate` (used when no principal of the allowed signers file
 * owns the key) prints `Good "git" signature with <TYPE> key SHA256:<fp>` (no "for"). Only the first
 * form with a zero exit status means "valid and allowed".
 */

export type SshOutcome =
  | { kind: 'good'; principal: string; keyType: string; fingerprint: string }
  | { kind: 'unknown-key'; keyType: string; fingerprint: string }
  | { kind: 'bad'; detail: string };

// Greedy principal so that a principal containing " with " still leaves the real key suffix.
const GOOD_FOR = /^Good "git" signature for (.+) with (\S+) key (SHA256:[A-Za-z0-9+/=]+)$/;
const GOOD_UNKNOWN = /^Good "git" signature with (\S+) key (SHA256:[A-Za-z0-9+/=]+)$/;

export function parseSshVerifyOutput(text: string, exitCode: number): SshOutcome {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trim())
    .filter((l) => l !== '');
  for (const line of lines) {
    const good = GOOD_FOR.exec(line);
    if (good && exitCode === 0) {
      return { kind: 'good', principal: good[1]!, keyType: good[2]!, fingerprint: good[3]! };
    }
  }
  for (const line of lines) {
    const unknown = GOOD_UNKNOWN.exec(line);
    if (unknown) return { kind: 'unknown-key', keyType: unknown[1]!, fingerprint: unknown[2]! };
  }
  // Prefer ssh-keygen's most specific complaint ("Signature verification failed: incorrect signature").
  const detail =
    lines.find((l) => /verification failed|incorrect signature|invalid|revoked|expired/i.test(l)) ??
    lines.find((l) => !l.startsWith('Good ')) ??
    `ssh-keygen exit status ${exitCode}`;
  return { kind: 'bad', detail: detail.slice(0, 200) };
}
