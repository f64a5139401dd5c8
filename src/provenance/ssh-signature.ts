/**
 * Verifies an SSH-signed git tag with `ssh-keygen -Y` directly, from the payload and armor parsed out
 * of the tag object, instead of `git verify-tag`.
 *
 * Why not git: git (gpg-interface.c, verify_ssh_signed_buffer) passes `-Overify-time=` set to the
 * date in the tagger header. That date is written by the signer, so a key retired in the allowed
 * signers file with `valid-before="…"` still verifies any tag its holder backdates to before the
 * retirement. waybill checks signer validity at the time of verification (the caller's clock) by
 * default. The flow mirrors git's otherwise: `find-principals` names the allowed signer of the key,
 * `verify -n git -I <principal>` checks the signature (with `-r` when a revocation list is given),
 * and `check-novalidate` tells "valid signature by an unknown key" from "bad signature".
 */

import type { SignatureVerdict } from '../record/types.ts';
import { withPrivateTempDir } from '../util/private-temp.ts';
import { runProgram } from '../util/run-program.ts';
import { parseSshVerifyOutput } from './ssh-verify-output.ts';

export interface SshVerifyRequest {
  /** The signed bytes: the tag object up to its signature block. */
  payload: Buffer;
  /** The `-----BEGIN SSH SIGNATURE-----` block. */
  armor: Buffer;
  allowedSignersFile: string;
  /** A KRL or list of revoked public keys (`ssh-keygen -r`), or null. */
  revocationFile: string | null;
  /** When the signer's key must be valid (valid-after / valid-before in the allowed signers file). */
  verifyTime: Date;
  /** Names the tag in error messages. */
  input: string;
  timeoutMs: number;
}

export type SshVerdict =
  | { kind: 'good'; principal: string; keyType: string; fingerprint: string }
  | {
      kind: 'unknown-key';
      keyType: string;
      fingerprint: string;
      /** A line of the allowed signers file ssh-keygen could not read (`FILE:N: bad options: …`). */
      unreadLine?: string;
    }
  | { kind: 'not-valid-now'; keyType: string; fingerprint: string; detail: string }
  | { kind: 'revoked'; keyType: string; fingerprint: string }
  | { kind: 'bad'; detail: string };

/** The namespace git signs tags and commits in. */
const NAMESPACE = 'git';

/** `YYYYMMDDHHMMSS` in local time, as ssh-keygen reads `-Overify-time` (and as git writes it). */
export function sshVerifyTime(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    pad(date.getFullYear(), 4) +
    pad(date.getMonth() + 1) +
    pad(date.getDate()) +
    pad(date.getHours()) +
    pad(date.getMinutes()) +
    pad(date.getSeconds())
  );
}

export async function verifySshSignature(request: SshVerifyRequest): Promise<SshVerdict> {
  return withPrivateTempDir('waybill-sshsig-', async (dir) =>
    verifyWithFile(request, await dir.write('tag.sig', request.armor)),
  );
}

async function verifyWithFile(request: SshVerifyRequest, signatureFile: string): Promise<SshVerdict> {
  const time = `-Overify-time=${sshVerifyTime(request.verifyTime)}`;
  const keygen = (args: string[], stdin?: Buffer) =>
    runProgram('ssh-keygen', args, {
      env: { ...process.env, LC_ALL: 'C' },
      stdin,
      timeoutMs: request.timeoutMs,
      maxStdoutBytes: 1024 * 1024,
      input: request.input,
      label: `ssh-keygen -Y ${args[1]}`,
      spawnErrorCode: 'SIGNATURE',
    });

  const find = await keygen([
    '-Y',
    'find-principals',
    '-f',
    request.allowedSignersFile,
    '-s',
    signatureFile,
    time,
  ]);
  const principals =
    find.code === 0
      ? find.stdout
          .toString('utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '')
      : [];

  if (principals.length === 0) {
    const check = await keygen(
      ['-Y', 'check-novalidate', '-n', NAMESPACE, '-s', signatureFile],
      request.payload,
    );
    const outcome = parseSshVerifyOutput(`${check.stdout.toString('utf8')}\n${check.stderr}`, check.code);
    if (outcome.kind !== 'unknown-key') return { kind: 'bad', detail: badDetail(outcome, check.stderr) };
    // The key is listed but outside its valid-after / valid-before window at verification time.
    const expiry = find.stderr.split('\n').find((l) => /key has expired|not yet valid/i.test(l));
    if (expiry) {
      return { ...keyOf(outcome), kind: 'not-valid-now', detail: expiry.replace(/^.*?:\d+: /, '').trim() };
    }
    // ssh-keygen skips a line it cannot parse (an unquoted valid-before=…) and says so only on
    // stderr: the key may be listed on exactly that line, so "not in the file" alone would mislead.
    const unread = find.stderr.split('\n').find((l) => l.startsWith(`${request.allowedSignersFile}:`));
    return unread ? { ...outcome, unreadLine: unread.trim() } : outcome;
  }

  const verify = (principal: string, revocation: boolean) => {
    const args = ['-Y', 'verify', '-n', NAMESPACE, '-f', request.allowedSignersFile, '-I', principal];
    args.push('-s', signatureFile, time);
    if (revocation && request.revocationFile !== null) args.push('-r', request.revocationFile);
    return keygen(args, request.payload);
  };
  let last = { kind: 'bad', detail: 'ssh-keygen printed nothing' } as SshVerdict;
  for (const principal of principals) {
    const result = await verify(principal, true);
    const outcome = parseSshVerifyOutput(`${result.stdout.toString('utf8')}\n${result.stderr}`, result.code);
    if (outcome.kind === 'good') return outcome;
    last = { kind: 'bad', detail: badDetail(outcome, result.stderr) };
  }
  // ssh-keygen says only "Could not verify signature." for a revoked key: find out by asking again
  // without the revocation list.
  if (request.revocationFile !== null) {
    const result = await verify(principals[0]!, false);
    const outcome = parseSshVerifyOutput(`${result.stdout.toString('utf8')}\n${result.stderr}`, result.code);
    if (outcome.kind === 'good') return { ...keyOf(outcome), kind: 'revoked' };
  }
  return last;
}

function keyOf(outcome: { keyType: string; fingerprint: string }): { keyType: string; fingerprint: string } {
  return { keyType: outcome.keyType, fingerprint: outcome.fingerprint };
}

function badDetail(outcome: ReturnType<typeof parseSshVerifyOutput>, stderr: string): string {
  if (outcome.kind === 'bad') return outcome.detail;
  return stderr.trim().split('\n')[0] || 'signature does not verify';
}

/**
 * A verdict in the words records and reports use: who signed (`principal (TYPE key SHA256:…)`) and
 * one line saying why the signature is (not) accepted.
 */
export function sshSignatureVerdict(verdict: SshVerdict, revocationFile: string | null): SignatureVerdict {
  const format = 'ssh';
  const key = (v: { keyType: string; fingerprint: string }) => `${v.keyType} key ${v.fingerprint}`;
  switch (verdict.kind) {
    case 'good':
      return {
        verified: true,
        format,
        signer: `${verdict.principal} (${key(verdict)})`,
        reason: `good SSH signature by allowed signer ${verdict.principal}`,
      };
    case 'unknown-key':
      return {
        verified: false,
        format,
        signer: key(verdict),
        reason: `SSH signature is valid but key ${verdict.fingerprint} is not in the allowed signers file${
          verdict.unreadLine ? ` (ssh-keygen skipped a line it could not read: ${verdict.unreadLine})` : ''
        }`,
      };
    case 'not-valid-now':
      return {
        verified: false,
        format,
        signer: key(verdict),
        reason: `SSH key ${verdict.fingerprint} is not valid at the time of verification per the allowed signers file (${verdict.detail}); the tag's own date is not trusted`,
      };
    case 'revoked':
      return {
        verified: false,
        format,
        signer: key(verdict),
        reason: `SSH key ${verdict.fingerprint} is revoked (${revocationFile})`,
      };
    default:
      return { verified: false, format, signer: null, reason: `bad SSH signature: ${verdict.detail}` };
  }
}
