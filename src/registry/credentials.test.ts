import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isWaybillError } from '../errors.ts';
import {
  configFileCredentials,
  defaultCredentials,
  dockerConfigPath,
  normalizeRegistryKey,
} from './credentials.ts';

let dir: string;
let savedPath: string | undefined;

const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * A real credential helper program, as docker-credential-pass or -secretservice would be: reads the
 * server URL on stdin, answers per the helper protocol. It logs the server URLs it was asked for.
 */
async function writeHelper(name: string, body: string): Promise<void> {
  const path = join(dir, 'bin', `docker-credential-${name}`);
  await writeFile(path, `#!/bin/sh\nread -r server\necho "$server" >> "${dir}/asked-${name}"\n${body}\n`);
  await chmod(path, 0o755);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-creds-'));
  await mkdir(join(dir, 'bin'));
  savedPath = process.env.PATH;
  process.env.PATH = `${join(dir, 'bin')}:${process.env.PATH}`;
  await writeHelper(
    'test',
    `case "$server" in
  registry.example) echo '{"ServerURL":"registry.example","Username":"helper-user","Secret":"helper-pass"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"","Username":"<token>","Secret":"refresh-tok"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac`,
  );
  await writeHelper('broken', `echo 'boom: keychain locked' >&2; exit 3`);
  await writeHelper('garbage', `echo 'not json'`);
});

after(async () => {
  process.env.PATH = savedPath;
  await rm(dir, { recursive: true, force: true });
});

test('registry keys: hosts and URLs name the same registry', () => {
  assert.equal(normalizeRegistryKey('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normalizeRegistryKey('registry-1.docker.io'), 'docker.io');
  assert.equal(normalizeRegistryKey('http://Reg.Example:5000/v2/'), 'reg.example:5000');
  assert.equal(normalizeRegistryKey('ghcr.io'), 'ghcr.io');
});

test('config file: auths entries (auth, username/password, identitytoken, registrytoken)', async () => {
  const path = join(dir, 'config.json');
  await writeFile(
    path,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass:with:colons') },
        'reg.example:5000': { username: 'podman', password: 'pw' },
        'oauth.example': { identitytoken: 'refresh' },
        'bearer.example': { registrytoken: 'tok' },
        'empty.example': {},
      },
    }),
  );
  const store = configFileCredentials(path);
  assert.deepEqual(await store.lookup('docker.io'), {
    username: 'hubuser',
    password: 'hub:pass:with:colons',
  });
  assert.deepEqual(await store.lookup('REG.example:5000'), { username: 'podman', password: 'pw' });
  assert.deepEqual(await store.lookup('oauth.example'), { identityToken: 'refresh' });
  assert.deepEqual(await store.lookup('bearer.example'), { registryToken: 'tok' });
  assert.equal(await store.lookup('empty.example'), undefined);
  assert.equal(await store.lookup('other.example'), undefined);
  assert.equal(await configFileCredentials(join(dir, 'absent.json')).lookup('docker.io'), undefined);
});

test('config file: credHelpers per registry, credsStore for the rest, helper protocol', async () => {
  const path = join(dir, 'helpers.json');
  await writeFile(
    path,
    JSON.stringify({
      credHelpers: { 'registry.example': 'test', 'broken.example': 'broken', 'garbage.example': 'garbage' },
      credsStore: 'test',
      auths: { 'fallback.example': { auth: b64('u:p') } },
    }),
  );
  const store = configFileCredentials(path);
  assert.deepEqual(await store.lookup('registry.example'), {
    username: 'helper-user',
    password: 'helper-pass',
  });
  // Docker Hub is asked for by its historical server URL; `<token>` means an identity token.
  assert.deepEqual(await store.lookup('docker.io'), { identityToken: 'refresh-tok' });
  // The store has nothing for it: the auths entry is used.
  assert.deepEqual(await store.lookup('fallback.example'), { username: 'u', password: 'p' });
  await assert.rejects(
    store.lookup('broken.example'),
    (e: unknown) =>
      isWaybillError(e) &&
      e.code === 'AUTH' &&
      /docker-credential-broken failed \(exit 3\): boom: keychain locked/.test(e.message),
  );
  await assert.rejects(store.lookup('garbage.example'), /printed something that is not JSON/);
});

test('config file: a helper that is not installed, or a name that is a path, is one line', async () => {
  const path = join(dir, 'bad-helpers.json');
  await writeFile(
    path,
    JSON.stringify({ credHelpers: { 'a.example': 'not-installed-xyz', 'b.example': '../../bin/sh' } }),
  );
  const store = configFileCredentials(path);
  await assert.rejects(
    store.lookup('a.example'),
    /docker-credential-not-installed-xyz is not installed \(named by .*credHelpers\)/,
  );
  await assert.rejects(
    store.lookup('b.example'),
    (e: unknown) => isWaybillError(e) && e.code === 'CONFIG' && /not a plain name/.test(e.message),
  );
});

test('config file: damage is one CONFIG line that never shows the file content', async () => {
  const secret = 'TOPSECRET-in-the-file';
  const cases: Array<[string, RegExp]> = [
    [`{"auths": {"x": {"auth": "${secret}"`, /not valid JSON/],
    [`{"auths": {"x": {"auth": "${b64(secret)}"}}}`, /"auth" is not base64 of user:password/],
    [`{"auths": {"x": {"password": 42}}}`, /auths\["x"\].password is not a string/],
    [`{"auths": []}`, /"auths" is not an object/],
    [`{"auths": {"x": [1]}}`, /auths\["x"\] is not an object/],
    [`[1]`, /not a JSON object/],
    [`{"credsStore": 7}`, /"credsStore" is not a string/],
  ];
  for (const [text, reason] of cases) {
    const path = join(dir, 'damaged.json');
    await writeFile(path, text);
    await assert.rejects(configFileCredentials(path).lookup('x'), (e: unknown) => {
      assert.ok(isWaybillError(e) && e.code === 'CONFIG', String(e));
      assert.match(e.message, reason);
      assert.doesNotMatch(e.message, /TOPSECRET|VE9QU0VDUkVU/);
      return true;
    });
  }
  const link = join(dir, 'link.json');
  await symlink('/dev/zero', link);
  await assert.rejects(configFileCredentials(link).lookup('x'), /not a regular file/);
});

test('the chain: flags, then REGISTRY_AUTH_FILE (or --authfile), then the Docker configuration', async () => {
  const home = join(dir, 'home');
  await mkdir(join(home, '.docker'), { recursive: true });
  await writeFile(
    join(home, '.docker', 'config.json'),
    JSON.stringify({
      auths: { 'a.example': { auth: b64('docker:1') }, 'b.example': { auth: b64('docker:2') } },
    }),
  );
  const authFile = join(dir, 'auth.json');
  await writeFile(authFile, JSON.stringify({ auths: { 'b.example': { auth: b64('containers:3') } } }));
  const env = { REGISTRY_AUTH_FILE: authFile };
  const store = defaultCredentials({
    env,
    home,
    explicit: { registry: 'c.example', credential: { username: 'flag', password: '4' } },
  });
  assert.deepEqual(await store.lookup('a.example'), { username: 'docker', password: '1' });
  assert.deepEqual(await store.lookup('b.example'), { username: 'containers', password: '3' });
  assert.deepEqual(await store.lookup('c.example'), { username: 'flag', password: '4' });
  const viaFlag = defaultCredentials({ env: {}, home, authFile });
  assert.deepEqual(await viaFlag.lookup('b.example'), { username: 'containers', password: '3' });
  assert.equal(dockerConfigPath({ DOCKER_CONFIG: '/etc/dc' }, home), '/etc/dc/config.json');
  assert.equal(dockerConfigPath({}, home), join(home, '.docker', 'config.json'));
});
