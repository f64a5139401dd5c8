/**
 * The architecture of a file or tree that has no metadata of its own (a plain tarball, a directory):
 * the machines its executables are built for, read from ELF and Mach-O headers alone. The walk's
 * sniff step sees each candidate's first bytes and keeps nothing, so this costs one pass over the
 * tar headers and no buffering. A tree with no machine code at all is architecture-independent.
 */
import { archFromElfMachine, archFromMachOCpu } from '../formats/executable/arch-names.ts';
import { mayHoldExecutable } from '../formats/executable/executable.ts';
import type { Artifact } from '../sources/types.ts';

/** Debian's and rpm's word for "runs anywhere"; the identity rule accepts it for such artifacts. */
export const ARCHITECTURE_INDEPENDENT = 'noarch';

/** GOARCH-style architecture of an executable from its first 64 bytes, or undefined. */
export function architectureFromHead(head: Buffer): string | undefined {
  if (head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    const is64 = head[4] === 2;
    const littleEndian = head[5] === 1;
    const machine = littleEndian ? head.readUInt16LE(18) : head.readUInt16BE(18);
    return archFromElfMachine(machine, is64, littleEndian).goarch;
  }
  if (head.length >= 8) {
    const magic = head.readUInt32LE(0);
    // Thin Mach-O in either byte order; universal binaries name several machines and are rare in
    // tarballs, so they do not decide the architecture here.
    if (magic === 0xfeedface || magic === 0xfeedfacf) return archFromMachOCpu(head.readUInt32LE(4)).goarch;
    if (magic === 0xcefaedfe || magic === 0xcffaedfe) return archFromMachOCpu(head.readUInt32BE(4)).goarch;
  }
  return undefined;
}

export async function machineArchitectures(artifact: Artifact): Promise<string[]> {
  const found = new Set<string>();
  await artifact.walk({
    // Every file that could be one, mode and name aside: a tarball packed without modes still
    // tells its machine (cheap here: an archive's bytes are read anyway).
    want: (entry) => (mayHoldExecutable(entry) ? 'sniff' : false),
    sniff: (_entry, head) => {
      const arch = architectureFromHead(head);
      if (arch && !arch.startsWith('unknown-')) found.add(arch);
      return false;
    },
  });
  return found.size > 0 ? [...found].sort() : [ARCHITECTURE_INDEPENDENT];
}
