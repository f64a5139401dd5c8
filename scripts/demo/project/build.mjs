// The demo project's build recipe (`build.commands` in waybill.yaml runs `node build.mjs`).
//
// Writes dist/hello-VERSION.tar.gz and dist/hello-image (an OCI image layout tagged VERSION) from
// the files of this tree, reproducibly: entries sorted, owner 0:0, every mtime SOURCE_DATE_EPOCH
// (which `waybill build` sets to the tagged commit's time), gzip without a name or timestamp.
// It uses Node's standard library only, so the demo needs no other tool to build.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const epoch = Number(process.env.SOURCE_DATE_EPOCH);
if (!Number.isInteger(epoch)) throw new Error('SOURCE_DATE_EPOCH is not set');
const version = readFileSync('VERSION', 'utf8').trim();

/** Every file under `dir`, sorted, as tar entries below `prefix`. */
function collect(dir, prefix) {
  const entries = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) {
      entries.push({ path: `${prefix}${name}/`, mode: 0o755 });
      entries.push(...collect(path, `${prefix}${name}/`));
    } else {
      entries.push({
        path: `${prefix}${name}`,
        mode: info.mode & 0o111 ? 0o755 : 0o644,
        data: readFileSync(path),
      });
    }
  }
  return entries;
}

/** A POSIX ustar archive (paths here are short: no pax headers needed). */
function tar(entries) {
  const blocks = [];
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    if (Buffer.byteLength(entry.path) > 100) throw new Error(`${entry.path}: too long for a ustar header`);
    const header = Buffer.alloc(512);
    const field = (offset, length, value) => header.write(value, offset, length, 'ascii');
    const octal = (offset, length, value) =>
      field(offset, length, value.toString(8).padStart(length - 1, '0'));
    field(0, 100, entry.path);
    octal(100, 8, entry.mode);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, data.length);
    octal(136, 12, epoch);
    field(148, 8, '        ');
    field(156, 1, entry.data ? '0' : '5');
    field(257, 8, 'ustar\u000000');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${sum.toString(8).padStart(6, '0')}\u0000 `);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
// The app: its script, and the vendored packages where Node looks for them.
const app = [
  { path: 'bin/', mode: 0o755 },
  ...collect('bin', 'bin/'),
  { path: 'lib/', mode: 0o755 },
  { path: 'lib/node_modules/', mode: 0o755 },
  ...collect('vendor', 'lib/node_modules/'),
];

// What the tarball holds besides the app: nothing, so far.
const extras = [];

mkdirSync('dist', { recursive: true });
const top = `hello-${version}/`;
const tarball = [
  { path: top, mode: 0o755 },
  ...[...app, ...extras].map((e) => ({ ...e, path: top + e.path })),
];
writeFileSync(`dist/hello-${version}.tar.gz`, gzipSync(tar(tarball), { level: 9 }));

// The image: one layer holding the app under /opt/hello.
const image = 'dist/hello-image';
mkdirSync(join(image, 'blobs', 'sha256'), { recursive: true });
function blob(mediaType, bytes) {
  const digest = sha256(bytes);
  writeFileSync(join(image, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length };
}
const layerTar = tar([
  { path: 'opt/', mode: 0o755 },
  { path: 'opt/hello/', mode: 0o755 },
  ...app.map((e) => ({ ...e, path: `opt/hello/${e.path}` })),
]);
const created = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
const config = {
  created,
  architecture: 'amd64',
  os: 'linux',
  config: { Entrypoint: ['/opt/hello/bin/hello'] },
  rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
  history: [{ created, created_by: 'node build.mjs' }],
};
const manifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: blob('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(config))),
  layers: [blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(layerTar, { level: 9 }))],
};
const manifestDescriptor = blob(manifest.mediaType, Buffer.from(JSON.stringify(manifest)));
manifestDescriptor.annotations = { 'org.opencontainers.image.ref.name': version };
writeFileSync(join(image, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
writeFileSync(
  join(image, 'index.json'),
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [manifestDescriptor],
  }),
);
