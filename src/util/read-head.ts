/**
 * The first bytes of a file (or `length` bytes from `offset`): what format detection and sniffing
 * look at. Shorter when the file is.
 */
import { open } from 'node:fs/promises';

export async function readFileHead(path: string, length: number, offset = 0): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
