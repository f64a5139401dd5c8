/**
 * Rust cataloger: crates listed by cargo-auditable in the `.dep-v0` section of ELF, PE and Mach-O
 * binaries. The root crate is the application; every other entry is a crate linked into it (or, with
 * kind "build", used to build it).
 */
import { PackageURL } from 'packageurl-js';
import { isWaybillError } from '../errors.ts';
import { CARGO_AUDITABLE_SECTION, readCargoAudit } from '../formats/executable/cargo-auditable.ts';
import { parseExecutable, sniffExecutable, wantExecutable } from '../formats/executable/executable.ts';
import { containsBytes } from '../sources/content-match.ts';
import type { Cataloger, Component } from './types.ts';

/** The section name is stored as bytes in every format (ELF shstrtab, PE and Mach-O headers). */
const SECTION_NAME = Buffer.from(CARGO_AUDITABLE_SECTION, 'latin1');

export const rustCataloger: Required<Pick<Cataloger, 'keep'>> & Cataloger = {
  name: 'rust-cargo-auditable',
  want: wantExecutable,
  sniff: (_entry, head) => sniffExecutable(head),
  keep: (_entry, data) => containsBytes(data, SECTION_NAME),
  catalog(files, ctx) {
    const out: Component[] = [];
    for (const file of files) {
      try {
        const packages = readCargoAudit(parseExecutable(file.data, file.entry.path), file.entry.path);
        for (const p of packages ?? []) {
          const properties: Record<string, string> = { 'waybill:cargo:source': p.source };
          if (p.kind !== 'runtime') properties['waybill:cargo:kind'] = p.kind;
          out.push({
            type: p.root ? 'application' : 'library',
            ecosystem: 'cargo',
            name: p.name,
            version: p.version,
            purl: new PackageURL('cargo', undefined, p.name, p.version || undefined).toString(),
            licenses: [],
            foundAt: [file.entry.path],
            properties,
            ...(file.entry.layer !== undefined ? { layer: file.entry.layer } : {}),
          });
        }
      } catch (e) {
        if (!isWaybillError(e)) throw e;
        ctx.warn(file.entry.path, e.reason);
      }
    }
    return out;
  },
};
