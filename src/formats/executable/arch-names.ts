/**
 * Architecture names of executables: each format's machine code (ELF e_machine, PE Machine, Mach-O
 * cputype) as GOARCH and as the format's own tools spell it.
 */

export interface ArchName {
  /** GOARCH spelling (`amd64`, `arm64`, `386`, `ppc64le`…); `unknown-<n>` when the machine is not known. */
  goarch: string;
  /** The spelling the format's own tools use (`x86_64`, `aarch64` for ELF/PE; `arm64` for Mach-O). */
  native: string;
}

/** ELF e_machine (System V gABI, "e_machine" table), with class and endianness where GOARCH needs it. */
export function archFromElfMachine(machine: number, is64: boolean, littleEndian: boolean): ArchName {
  switch (machine) {
    case 3:
      return { goarch: '386', native: 'i386' };
    case 62:
      return { goarch: 'amd64', native: 'x86_64' };
    case 183:
      return { goarch: 'arm64', native: 'aarch64' };
    case 40:
      return { goarch: 'arm', native: 'arm' };
    case 8:
      if (is64)
        return littleEndian
          ? { goarch: 'mips64le', native: 'mips64el' }
          : { goarch: 'mips64', native: 'mips64' };
      return littleEndian ? { goarch: 'mipsle', native: 'mipsel' } : { goarch: 'mips', native: 'mips' };
    case 20:
      return { goarch: 'ppc', native: 'ppc' };
    case 21:
      return littleEndian ? { goarch: 'ppc64le', native: 'ppc64le' } : { goarch: 'ppc64', native: 'ppc64' };
    case 22:
      return is64 ? { goarch: 's390x', native: 's390x' } : { goarch: 's390', native: 's390' };
    case 243:
      return is64 ? { goarch: 'riscv64', native: 'riscv64' } : { goarch: 'riscv', native: 'riscv32' };
    case 258:
      return { goarch: 'loong64', native: 'loongarch64' };
    case 2:
      return { goarch: 'sparc', native: 'sparc' };
    case 43:
      return { goarch: 'sparc64', native: 'sparc64' };
    case 50:
      return { goarch: 'ia64', native: 'ia64' };
    default:
      return { goarch: `unknown-${machine}`, native: `unknown-${machine}` };
  }
}

/** PE/COFF IMAGE_FILE_MACHINE_* (Microsoft PE format, "Machine Types"). */
export function archFromPeMachine(machine: number): ArchName {
  switch (machine) {
    case 0x14c:
      return { goarch: '386', native: 'i386' };
    case 0x8664:
      return { goarch: 'amd64', native: 'x86_64' };
    case 0xaa64:
      return { goarch: 'arm64', native: 'aarch64' };
    case 0x1c0:
    case 0x1c2:
    case 0x1c4:
      return { goarch: 'arm', native: 'arm' };
    case 0x5032:
      return { goarch: 'riscv', native: 'riscv32' };
    case 0x5064:
      return { goarch: 'riscv64', native: 'riscv64' };
    case 0x6264:
      return { goarch: 'loong64', native: 'loongarch64' };
    case 0x200:
      return { goarch: 'ia64', native: 'ia64' };
    default:
      return { goarch: `unknown-${machine}`, native: `unknown-${machine}` };
  }
}

/** Mach-O cputype (<mach/machine.h>); CPU_ARCH_ABI64 = 0x01000000. */
export function archFromMachOCpu(cputype: number): ArchName {
  switch (cputype >>> 0) {
    case 7:
      return { goarch: '386', native: 'i386' };
    case 0x01000007:
      return { goarch: 'amd64', native: 'x86_64' };
    case 12:
      return { goarch: 'arm', native: 'arm' };
    case 0x0100000c:
      return { goarch: 'arm64', native: 'arm64' };
    case 0x0200000c:
      return { goarch: 'arm64', native: 'arm64_32' };
    case 18:
      return { goarch: 'ppc', native: 'ppc' };
    case 0x01000012:
      return { goarch: 'ppc64', native: 'ppc64' };
    default:
      return { goarch: `unknown-${cputype >>> 0}`, native: `unknown-${cputype >>> 0}` };
  }
}
