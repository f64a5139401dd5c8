/**
 * Where registry credentials come from, first match wins:
 *   1. explicit ones (`--username` with `--password-stdin`), for the registry being worked on;
 *   2. the auth file named by `--authfile` or `REGISTRY_AUTH_FILE` (containers-auth.json(5));
 *   3. the Docker client configuration, `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
 *
 * In a configuration file, `credHelpers[registry]` names a credential helper for one registry,
 * `credsStore` one for all, and `auths[registry]` holds `auth` (base64 `user:password`),
 * `username`/`password`, `identitytoken` or `registrytoken`. Keys may be written as hosts or URLs
 * (`https://index.docker.io/v1/` is Docker Hub). Files are read only when a registry asks for
 * credentials, and nothing read from them is ever put in an error message.
 */
import { lstat, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import type { Credential, CredentialStore } from './credential.ts';
import { runCredentialHelper } from './credential-helper.ts';
import { DOCKER_HUB } from './reference.ts';

export type { Credential, CredentialStore } from './credential.ts';

/** The server URL Docker's tools store Docker Hub credentials under. */
const DOCKER_HUB_SERVER_URL = 'https://index.docker.io/v1/';
const MAX_CONFIG_BYTES = 1024 * 1024;

/** `https://index.docker.io/v1/`, `docker.io`, `HOST:5000/`, `http://host` → canonical registry. */
export function normalizeRegistryKey(key: string): string {
  let host = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash !== -1) host = host.slice(0, slash);
  host = host.toLowerCase();
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') return DOCKER_HUB;
  return host;
}

function hasSecret(c: Credential): boolean {
  return Boolean(c.password || c.identityToken || c.registryToken);
}

/** Credentials given on the command line, used only for `registry`. */
export function explicitCredentials(registry: string, credential: Credential): CredentialStore {
  const wanted = normalizeRegistryKey(registry);
  return { lookup: async (r) => (normalizeRegistryKey(r) === wanted ? credential : undefined) };
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface ConfigFile {
  auths: Map<string, AuthEntry>;
  credHelpers: Map<string, string>;
  credsStore?: string;
}

function configError(path: string, reason: string): WaybillError {
  return new WaybillError('CONFIG', path, reason);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseConfig(text: string, path: string): ConfigFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // The parser's message quotes the text near the error, which may be a secret: say only where.
    throw configError(path, 'not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw configError(path, 'not a JSON object');
  const obj = doc as Record<string, unknown>;
  const config: ConfigFile = { auths: new Map(), credHelpers: new Map() };
  if (obj.auths !== undefined) {
    if (!isObject(obj.auths)) throw configError(path, '"auths" is not an object');
    for (const [key, value] of Object.entries(obj.auths)) {
      if (!isObject(value))
        throw configError(path, `auths[${JSON.stringify(key.slice(0, 100))}] is not an object`);
      const entry: AuthEntry = {};
      for (const field of ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const) {
        const v = (value as Record<string, unknown>)[field];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'string')
          throw configError(path, `auths[${JSON.stringify(key.slice(0, 100))}].${field} is not a string`);
        entry[field] = v;
      }
      const registry = normalizeRegistryKey(key);
      // The first spelling of a registry wins, as in docker's lookup of its canonical key.
      if (!config.auths.has(registry)) config.auths.set(registry, entry);
    }
  }
  if (obj.credHelpers !== undefined) {
    if (!isObject(obj.credHelpers)) throw configError(path, '"credHelpers" is not an object');
    for (const [key, value] of Object.entries(obj.credHelpers)) {
      if (typeof value !== 'string')
        throw configError(path, `credHelpers[${JSON.stringify(key.slice(0, 100))}] is not a string`);
      config.credHelpers.set(normalizeRegistryKey(key), value);
    }
  }
  if (obj.credsStore !== undefined) {
    if (typeof obj.credsStore !== 'string') throw configError(path, '"credsStore" is not a string');
    if (obj.credsStore !== '') config.credsStore = obj.credsStore;
  }
  return config;
}

function decodeEntry(entry: AuthEntry, registry: string, path: string): Credential | undefined {
  const credential: Credential = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1)
      throw configError(path, `auths entry for ${registry}: "auth" is not base64 of user:password`);
    credential.username = decoded.slice(0, colon);
    credential.password = decoded.slice(colon + 1);
  } else if (entry.username !== undefined || entry.password !== undefined) {
    credential.username = entry.username ?? '';
    credential.password = entry.password ?? '';
  }
  if (entry.identitytoken) credential.identityToken = entry.identitytoken;
  if (entry.registrytoken) credential.registryToken = entry.registrytoken;
  return hasSecret(credential) ? credential : undefined;
}

/** Credentials from one Docker-style configuration file (absent file: none). */
export function configFileCredentials(path: string): CredentialStore {
  let loaded: Promise<ConfigFile | undefined> | undefined;
  const load = async (): Promise<ConfigFile | undefined> => {
    const info = await lstat(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
      throw configError(path, `cannot read (${e.code})`);
    });
    if (!info) return undefined;
    if (!info.isFile()) throw configError(path, 'not a regular file');
    if (info.size > MAX_CONFIG_BYTES) throw configError(path, `larger than ${MAX_CONFIG_BYTES} bytes`);
    const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw configError(path, `cannot read (${e.code})`);
    });
    return parseConfig(text, path);
  };
  return {
    async lookup(registry) {
      loaded ??= load();
      const config = await loaded;
      if (!config) return undefined;
      const wanted = normalizeRegistryKey(registry);
      const serverUrl = wanted === DOCKER_HUB ? DOCKER_HUB_SERVER_URL : wanted;
      const helper = config.credHelpers.get(wanted);
      if (helper) return runCredentialHelper(helper, serverUrl, `${path}: credHelpers`);
      if (config.credsStore) {
        const stored = await runCredentialHelper(config.credsStore, serverUrl, `${path}: credsStore`);
        if (stored) return stored;
      }
      const entry = config.auths.get(wanted);
      return entry ? decodeEntry(entry, wanted, path) : undefined;
    },
  };
}

/** Tries each store in order. */
export function chainCredentials(stores: CredentialStore[]): CredentialStore {
  return {
    async lookup(registry) {
      for (const store of stores) {
        const found = await store.lookup(registry);
        if (found) return found;
      }
      return undefined;
    },
  };
}

export interface CredentialSources {
  /** Credentials from flags, for this registry only. */
  explicit?: { registry: string; credential: Credential };
  /** `--authfile`; default `REGISTRY_AUTH_FILE`. */
  authFile?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** The Docker configuration file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : join(home, '.docker', 'config.json');
}

/** The usual chain: explicit, then the auth file, then the Docker configuration. */
export function defaultCredentials(sources: CredentialSources = {}): CredentialStore {
  const env = sources.env ?? process.env;
  const stores: CredentialStore[] = [];
  if (sources.explicit)
    stores.push(explicitCredentials(sources.explicit.registry, sources.explicit.credential));
  const authFile = sources.authFile ?? env.REGISTRY_AUTH_FILE;
  if (authFile) stores.push(configFileCredentials(authFile));
  stores.push(configFileCredentials(dockerConfigPath(env, sources.home)));
  return chainCredentials(stores);
}

/** No credentials at all (anonymous access only). */
export const ANONYMOUS: CredentialStore = { lookup: async () => undefined };
