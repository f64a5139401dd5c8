/**
 * Flags for commands that read `docker://` references: plain http to a loopback registry, and
 * credentials given on the command line. The password is read from stdin, never from a flag (a
 * flag's value shows in `ps` and shell history).
 */
import type { Command } from 'commander';
import { WaybillError } from '../errors.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { defaultCredentials } from '../registry/credentials.ts';
import { DOCKER_TRANSPORT, parseDockerReference } from '../registry/reference.ts';

export interface RegistryFlags {
  insecure?: boolean;
  username?: string;
  passwordStdin?: boolean;
  authfile?: string;
}

/** Passwords and tokens longer than this are not credentials. */
const MAX_PASSWORD_BYTES = 64 * 1024;

export function addRegistryOptions(command: Command): Command {
  return command
    .option('--insecure', 'docker://: plain http, for a registry on this machine (loopback) only')
    .option('--username <name>', 'docker://: the registry user (the password comes from --password-stdin)')
    .option('--password-stdin', 'docker://: read the registry password or token from stdin')
    .option(
      '--authfile <file>',
      'docker://: credentials file (default: $REGISTRY_AUTH_FILE, then $DOCKER_CONFIG/config.json or ~/.docker/config.json)',
    );
}

async function readStdinSecret(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PASSWORD_BYTES)
      throw new WaybillError('USAGE', '--password-stdin', 'more than 64 KiB on stdin');
    chunks.push(chunk);
  }
  const secret = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (secret === '') throw new WaybillError('USAGE', '--password-stdin', 'nothing on stdin');
  return secret;
}

/** The registry options for `ref`, or undefined when it is not a `docker://` reference. */
export async function registryOptionsFrom(
  ref: string,
  flags: RegistryFlags,
): Promise<RegistryOptions | undefined> {
  const used =
    flags.insecure || flags.username !== undefined || flags.passwordStdin || flags.authfile !== undefined;
  if (!ref.startsWith(DOCKER_TRANSPORT)) {
    if (used)
      throw new WaybillError(
        'USAGE',
        '--insecure/--username/--password-stdin/--authfile',
        `apply to ${DOCKER_TRANSPORT} references only`,
      );
    return undefined;
  }
  if ((flags.username !== undefined) !== Boolean(flags.passwordStdin))
    throw new WaybillError('USAGE', '--username', 'give --username and --password-stdin together');
  const explicit =
    flags.username !== undefined
      ? {
          registry: parseDockerReference(ref).registry,
          credential: { username: flags.username, password: await readStdinSecret() },
        }
      : undefined;
  return {
    insecure: Boolean(flags.insecure),
    credentials: defaultCredentials({
      ...(explicit ? { explicit } : {}),
      ...(flags.authfile !== undefined ? { authFile: flags.authfile } : {}),
    }),
  };
}

/**
 * The registry options of a command with two references (copy, publish): the flags apply when
 * either is `docker://`; `--username` names the user of `credentialRef`'s registry (the
 * destination's when it is a registry, else the source's). Credentials for the other registry come
 * from the auth files.
 */
export async function registryOptionsForPair(
  source: string,
  destination: string,
  flags: RegistryFlags,
): Promise<RegistryOptions | undefined> {
  const credentialRef = destination.startsWith(DOCKER_TRANSPORT)
    ? destination
    : source.startsWith(DOCKER_TRANSPORT)
      ? source
      : undefined;
  if (credentialRef === undefined) return registryOptionsFrom(source, flags);
  return registryOptionsFrom(credentialRef, flags);
}
