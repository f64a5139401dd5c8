/**
 * A streaming reader for the SVR4 cpio formats rpm payloads use (cpio(5) "New ASCII Format"): `newc`
 * (magic `070701`) and `crc` (magic `070702`, same layout plus a checksum of the content). A header
 * is 110 ASCII bytes: the magic and 13 eight-digit hex fields (ino, mode, uid, gid, nlink, mtime,
 * filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check), then the NUL-terminated name
 * padded so header + name is a multiple of 4, then the content padded to 4. `TRAILER!!!` ends it.
 *
 * Input is hostile: hex fields are validated, names are capped and must be UTF-8, paths are
 * normalized and refused when absolute or containing `..` (UNSAFE_PATH), and every read is checked
 * for truncation (MALFORMED). rpm's stripped format for payloads over 4 GiB (`07070X`, content
 * described only by the header) is UNSUPPORTED.
 */
import type { Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';
import { ChunkQueue } from './chunk-queue.ts';
import { escapeBytes, normalizeEntryPath } from './tar-reader.ts';

export const CPIO_HEADER_SIZE = 110;
const TRAILER = 'TRAILER!!!';
/** rpm caps paths at PATH_MAX (4096); anything much larger is hostile. */
const MAX_NAME_BYTES = 64 * 1024;
/** Symlink targets are content, but small (PATH_MAX). */
const MAX_LINK_BYTES = 64 * 1024;

export type CpioEntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface CpioHeader {
  /** Normalized relative path (no leading `./` or `/`, no `..`). */
  path: string;
  type: CpioEntryType;
  /** Permission bits (mode & 07777). */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  nlink: number;
  ino: number;
  devmajor: number;
  devminor: number;
  /** Content bytes (0 for directories; for symlinks the target's length). */
  size: number;
  linkTarget?: string;
}

export interface CpioEntry {
  header: CpioHeader;
  peek(n: number): Promise<Buffer>;
  readAll(): Promise<Buffer>;
  skip(): Promise<void>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function truncated(input: string, position: number, what: string): WaybillError {
  return new WaybillError(
    'MALFORMED',
    input,
    `truncated cpio archive: end of data in ${what} at offset ${position}`,
  );
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function hexField(block: Buffer, index: number, what: string, input: string, at: number): number {
  const start = 6 + index * 8;
  const text = block.toString('latin1', start, start + 8);
  if (!/^[0-9a-fA-F]{8}$/.test(text)) {
    throw new WaybillError(
      'MALFORMED',
      input,
      `cpio header at offset ${at}: bad ${what} field ${escapeBytes(block.subarray(start, start + 8))}`,
    );
  }
  return Number.parseInt(text, 16);
}

function entryType(mode: number): CpioEntryType {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

export interface CpioReadOptions {
  /** Named in errors. */
  input: string;
}

/**
 * Iterates the entries of a cpio stream. Each entry's content must be used before asking for the
 * next; what is left is skipped. The `crc` format's checksum is verified whenever an entry is read
 * whole (`readAll`); skipped content is not summed.
 */
export async function* readCpio(
  source: AsyncIterable<unknown> | Iterable<Uint8Array> | Readable,
  options: CpioReadOptions,
): AsyncGenerator<CpioEntry> {
  const input = options.input;
  const iterator =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (async function* () {
          yield* source as Iterable<Uint8Array>;
        })();
  const queue = new ChunkQueue(iterator, (at, what) => truncated(input, at, what));
  while (true) {
    const at = queue.position;
    const block = await queue.read(CPIO_HEADER_SIZE, 'header');
    if (block === null)
      throw new WaybillError(
        'MALFORMED',
        input,
        `cpio archive ends at offset ${at} without a ${TRAILER} entry`,
      );
    const magic = block.toString('latin1', 0, 6);
    if (magic === '07070X') {
      throw new WaybillError(
        'UNSUPPORTED',
        input,
        'rpm stripped cpio payload (files over 4 GiB) is not supported',
      );
    }
    if (magic !== '070701' && magic !== '070702') {
      throw new WaybillError(
        'MALFORMED',
        input,
        `bad cpio magic ${escapeBytes(block.subarray(0, 6))} at offset ${at} (want newc 070701 or crc 070702)`,
      );
    }
    const withCrc = magic === '070702';
    const ino = hexField(block, 0, 'ino', input, at);
    const rawMode = hexField(block, 1, 'mode', input, at);
    const uid = hexField(block, 2, 'uid', input, at);
    const gid = hexField(block, 3, 'gid', input, at);
    const nlink = hexField(block, 4, 'nlink', input, at);
    const mtime = hexField(block, 5, 'mtime', input, at);
    const size = hexField(block, 6, 'filesize', input, at);
    const devmajor = hexField(block, 7, 'devmajor', input, at);
    const devminor = hexField(block, 8, 'devminor', input, at);
    hexField(block, 9, 'rdevmajor', input, at);
    hexField(block, 10, 'rdevminor', input, at);
    const namesize = hexField(block, 11, 'namesize', input, at);
    const check = hexField(block, 12, 'check', input, at);
    if (namesize < 1 || namesize > MAX_NAME_BYTES) {
      throw new WaybillError(
        'MALFORMED',
        input,
        `cpio header at offset ${at}: name size ${namesize} out of range`,
      );
    }
    const nameBytes = (await queue.read(namesize, 'entry name')) ?? Buffer.alloc(0);
    if (nameBytes.length < namesize) throw truncated(input, queue.position, 'entry name');
    await queue.skip(pad4(CPIO_HEADER_SIZE + namesize), 'name padding');
    if (nameBytes[namesize - 1] !== 0) {
      throw new WaybillError('MALFORMED', input, `cpio entry name at offset ${at} is not NUL-terminated`);
    }
    const rawNameBytes = nameBytes.subarray(0, namesize - 1);
    if (rawNameBytes.includes(0)) {
      throw new WaybillError('MALFORMED', input, `cpio entry name at offset ${at} contains NUL`);
    }
    let rawName: string;
    try {
      rawName = utf8.decode(rawNameBytes);
    } catch {
      throw new WaybillError(
        'MALFORMED',
        input,
        `cpio entry name is not UTF-8: ${escapeBytes(rawNameBytes)}`,
      );
    }
    if (rawName === TRAILER) {
      await queue.skip(size + pad4(size), 'trailer');
      // rpm and cpio pad the archive to a block size after the trailer; nothing there matters.
      await queue.drain();
      return;
    }
    const path = normalizeEntryPath(rawName, input, 'cpio entry');
    const type = entryType(rawMode);
    if (path === '') {
      // `.`: the archive root, not an entry of the tree (GNU cpio writes it for `find .`).
      await queue.skip(size + pad4(size), 'root entry');
      continue;
    }
    const header: CpioHeader = {
      path,
      type,
      mode: rawMode & 0o7777,
      uid,
      gid,
      mtime,
      nlink,
      ino,
      devmajor,
      devminor,
      size: type === 'dir' ? 0 : size,
    };
    if (type === 'dir' && size !== 0) {
      throw new WaybillError('MALFORMED', input, `cpio directory ${JSON.stringify(path)} has content`);
    }
    let remaining = size;
    let sum = 0;
    let summedAll = true;
    const contentWhat = `content of ${JSON.stringify(path)}`;
    const consume = (piece: Buffer) => {
      if (withCrc) for (const byte of piece) sum = (sum + byte) >>> 0;
      remaining -= piece.length;
    };
    if (type === 'symlink') {
      if (size > MAX_LINK_BYTES) {
        throw new WaybillError(
          'MALFORMED',
          input,
          `cpio symlink ${JSON.stringify(path)} has a ${size}-byte target`,
        );
      }
      const target = (await queue.read(size, contentWhat)) ?? Buffer.alloc(0);
      if (target.length < size) throw truncated(input, queue.position, contentWhat);
      consume(target);
      try {
        header.linkTarget = utf8.decode(target);
      } catch {
        throw new WaybillError(
          'MALFORMED',
          input,
          `cpio symlink target of ${JSON.stringify(path)} is not UTF-8`,
        );
      }
    }
    const entry: CpioEntry = {
      header,
      async peek(n: number) {
        const want = Math.min(n, remaining);
        if ((await queue.fill(want)) < want) throw truncated(input, queue.position, contentWhat);
        return queue.peekBuffered(want);
      },
      async readAll() {
        const out = Buffer.allocUnsafe(remaining);
        let written = 0;
        while (remaining > 0) {
          if ((await queue.fill(1)) === 0) throw truncated(input, queue.position, contentWhat);
          const piece = queue.takeSome(remaining);
          piece.copy(out, written);
          written += piece.length;
          consume(piece);
        }
        if (withCrc && summedAll && sum !== check) {
          throw new WaybillError('MALFORMED', input, `cpio checksum mismatch for ${JSON.stringify(path)}`);
        }
        return out;
      },
      async skip() {
        const n = remaining;
        remaining = 0;
        summedAll = false;
        await queue.skip(n, contentWhat);
      },
    };
    if (header.type === 'symlink' && withCrc && sum !== check) {
      throw new WaybillError('MALFORMED', input, `cpio checksum mismatch for ${JSON.stringify(path)}`);
    }
    yield entry;
    await entry.skip();
    await queue.skip(pad4(size), 'content padding');
  }
}
