/**
 * Docker credential helpers (docker-credential-helpers protocol): `docker-credential-<name> get`
 * reads the server URL on stdin and prints `{"ServerURL", "Username", "Secret"}`. A `Username` of
 * `<token>` means the secret is an identity (OAuth2 refresh) token.
 *
 * The helper name comes only from the user's own configuration file (`credHelpers`, `credsStore`),
 * never from an artifact or a registry, and is checked to be a plain name so it cannot be a path.
 * The program is started without a shell, with a timeout and a cap on what it may print.
 */
import { spawn } from 'node:child_process';
import { WaybillError } from '../errors.ts';
import type { Credential } from './credential.ts';
import { sanitizeServerText } from './server-text.ts';

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HELPER_TIMEOUT_MS = 30_000;
const MAX_HELPER_OUTPUT = 64 * 1024;
/** What helpers print when they hold nothing for the server (credentials.ErrCredentialsNotFound). */
const NOT_FOUND_MESSAGE = 'credentials not found in native keychain';

export function isValidHelperName(name: string): boolean {
  return HELPER_NAME.test(name);
}

/** First non-empty line of a helper's message, safe for a terminal. */
function firstLine(text: string): string {
  return sanitizeServerText(text.split('\n').find((l) => l.trim() !== '') ?? '');
}

/**
 * Asks `docker-credential-<name>` for the credentials of `serverUrl`. Returns undefined when the
 * helper holds none. `where` names the configuration that chose the helper, for errors.
 */
export function runCredentialHelper(
  name: string,
  serverUrl: string,
  where: string,
): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  if (!isValidHelperName(name)) {
    return Promise.reject(
      new WaybillError(
        'CONFIG',
        where,
        `credential helper name ${JSON.stringify(name.slice(0, 80))} is not a plain name`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: HELPER_TIMEOUT_MS });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let overflow = false;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HELPER_OUTPUT) {
        overflow = true;
        child.kill('SIGKILL');
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    child.stdin.on('error', () => {
      // The helper may exit without reading stdin; its exit status says what happened.
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const reason =
        e.code === 'ENOENT'
          ? `${program} is not installed (named by ${where})`
          : `${program} could not be started (${e.code ?? 'error'})`;
      reject(new WaybillError('AUTH', where, reason));
    });
    child.on('close', (code, signal) => {
      const out = Buffer.concat(stdout).toString('utf8');
      if (overflow) {
        reject(new WaybillError('AUTH', where, `${program} printed more than ${MAX_HELPER_OUTPUT} bytes`));
        return;
      }
      if (signal) {
        reject(new WaybillError('AUTH', where, `${program} did not answer (killed by ${signal})`));
        return;
      }
      if (code !== 0) {
        const message = firstLine(out) || firstLine(Buffer.concat(stderr).toString('utf8'));
        if (message.includes(NOT_FOUND_MESSAGE)) resolve(undefined);
        else
          reject(
            new WaybillError('AUTH', where, `${program} failed (exit ${code}): ${message || 'no message'}`),
          );
        return;
      }
      try {
        resolve(parseHelperOutput(out, program));
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.end(serverUrl);
  });
}

function parseHelperOutput(out: string, program: string): Credential | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(out);
  } catch {
    throw new WaybillError('AUTH', program, 'printed something that is not JSON');
  }
  if (typeof doc !== 'object' || doc === null)
    throw new WaybillError('AUTH', program, 'printed no JSON object');
  const { Username: username, Secret: secret } = doc as Record<string, unknown>;
  if (typeof secret !== 'string' || (username !== undefined && typeof username !== 'string'))
    throw new WaybillError('AUTH', program, 'printed no Username/Secret strings');
  if (secret === '') return undefined;
  if (username === '<token>') return { identityToken: secret };
  return { username: username ?? '', password: secret };
}
