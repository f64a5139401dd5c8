/**
 * The first bytes of a file (or `length` bytes from `offset`): what format detection and sniffing
 * look at. Shorter when the file is. Only a regular file is opened (regular-file.ts): a FIFO or a
 * device is refused, never waited on.
 */
import { openRegularFile, type RegularFileOptions } from './regular-file.ts';

export async function readFileHead(
  path: string,
  length: number,
  offset = 0,
  options: RegularFileOptions = {},
): Promise<Buffer> {
  const { handle } = await openRegularFile(path, options);
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
