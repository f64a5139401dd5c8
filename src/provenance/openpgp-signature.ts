/**
 * Verifies an OpenPGP signature over bytes (a tag object's payload) with the consumer's own public
 * keyring, never the user's GnuPG home: `gpg` runs in a fresh temporary home (mode 0700, removed
 * afterwards) into which the keyring file's keys are imported, then `--verify` checks the detached
 * signature. gpg is started with a fixed argument vector (src/util/run-program.ts), a deadline, no
 * options file, no agent or dirmngr (`--no-autostart`) and no key retrieval, so nothing in the
 * signature or keyring can make it reach the network or start another program.
 *
 * Trust is not gpg's business here: `--trust-model always` keeps it from consulting a trust
 * database, and the caller decides from the VALIDSIG fingerprint (gpg-status.ts) whether the key
 * is one the consumer named.
 */
import { WaybillError } from '../errors.ts';
import { withPrivateTempDir } from '../util/private-temp.ts';
import { readRegularFile } from '../util/regular-file.ts';
import { runProgram } from '../util/run-program.ts';
import { type GpgOutcome, parseGpgStatus } from './gpg-status.ts';

export interface OpenPgpVerifyRequest {
  /** The signed bytes: the tag object up to its signature block. */
  payload: Buffer;
  /** The `-----BEGIN PGP SIGNATURE-----` block. */
  armor: Buffer;
  /** An exported public keyring (`gpg --export [--armor] KEY… > FILE`), the consumer's own file. */
  keyringFile: string;
  /** Names what is verified in messages (`tag object <id>`). */
  input: string;
  timeoutMs: number;
}

/** A keyring of the keys a release team signs with is kilobytes; past this it is not one. */
const MAX_KEYRING_BYTES = 16 * 1024 * 1024;

/** Options every gpg run gets: batch mode, no config, no agent, no network, no trust database. */
function gpgArgs(home: string): string[] {
  return [
    '--batch',
    '--no-tty',
    '--no-options',
    '--no-autostart',
    '--homedir',
    home,
    '--no-auto-key-retrieve',
    '--trust-model',
    'always',
    '--status-fd',
    '1',
  ];
}

export async function verifyOpenPgpSignature(request: OpenPgpVerifyRequest): Promise<GpgOutcome> {
  const keyring = await readRegularFile(request.keyringFile, { maxBytes: MAX_KEYRING_BYTES });
  return withPrivateTempDir('waybill-gnupg-', async (home) => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', GNUPGHOME: home.path };
    const gpg = (args: string[], label: string, input: string, stdin?: Buffer) =>
      runProgram('gpg', [...gpgArgs(home.path), ...args], {
        env,
        stdin,
        timeoutMs: request.timeoutMs,
        maxStdoutBytes: 1024 * 1024,
        input,
        label: `gpg ${label}`,
        spawnErrorCode: 'SIGNATURE',
      });
    // The keyring comes in on stdin: gpg never opens the consumer's path (a FIFO there was refused above).
    const imported = await gpg(['--import'], '--import', request.keyringFile, keyring);
    const keys = imported.stdout
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith('[GNUPG:] IMPORT_OK ')).length;
    if (keys === 0) {
      throw new WaybillError(
        'MALFORMED',
        request.keyringFile,
        'holds no OpenPGP public key gpg can import (write one with gpg --export FINGERPRINT > FILE)',
      );
    }
    const signature = await home.write('payload.sig', request.armor);
    const payload = await home.write('payload', request.payload);
    const verified = await gpg(['--verify', signature, payload], '--verify', request.input);
    return parseGpgStatus(verified.stdout.toString('utf8'));
  });
}
