/** `waybill keygen`: a new signing key pair, PREFIX.key (0600) and PREFIX.pub; never overwrites. */
import type { Command } from 'commander';
import { DEFAULT_KEY_PREFIX, writeKeyPair } from '../../sign/keygen.ts';
import { KEY_ALGORITHMS, KEY_PASSWORD_ENV, parseKeyAlgorithm } from '../../sign/keys.ts';
import { escapeForTerminal } from '../../util/terminal-escape.ts';
import { addFormatOption } from '../common.ts';
import { out, outText, parseFormat, toJson } from '../output.ts';

const FORMATS = ['text', 'json'] as const;

export function registerKeygen(program: Command): void {
  const command = program
    .command('keygen')
    .description(`write a signing key pair (the private key is encrypted when ${KEY_PASSWORD_ENV} is set)`)
    .option('--out <prefix>', 'write PREFIX.key and PREFIX.pub', DEFAULT_KEY_PREFIX)
    .option('--algorithm <alg>', `key algorithm: ${KEY_ALGORITHMS.join(', ')}`, KEY_ALGORITHMS[0]);
  addFormatOption(command, FORMATS);
  command.action(async (opts: { out: string; algorithm: string; format?: string }) => {
    const format = parseFormat(opts.format, FORMATS);
    const result = await writeKeyPair({
      prefix: opts.out,
      algorithm: parseKeyAlgorithm(opts.algorithm),
      password: process.env[KEY_PASSWORD_ENV],
    });
    if (format === 'json') {
      await out(toJson(result));
      return;
    }
    const privateKey = escapeForTerminal(result.privateKeyPath);
    const publicKey = escapeForTerminal(result.publicKeyPath);
    const protection = result.encrypted ? 'encrypted' : `NOT encrypted: set ${KEY_PASSWORD_ENV} to encrypt`;
    await outText(
      `wrote ${privateKey} (${result.algorithm} private key, ${protection}, mode 0600)\n` +
        `wrote ${publicKey} (give it to verifiers: waybill verify ARTIFACT --key ${publicKey})\n`,
      { color: false },
    );
  });
}
