/**
 * Rust cataloger: crates listed by cargo-auditable in the `.dep-v0` section of ELF, PE and Mach-O
 * binaries. The root crate is the application; every other entry is a crate linked into it (or, with
 * kind "build", used to build it).
 */
import { PackageURL } from 'packageurl-js';
import { isWaybillError } from '../errors.ts';
import { CARGO_AUDITABLE_SECTION, readCargoAudit } from '../formats/executable/cargo-auditable.ts';
import { condenseExecutable } from '../formats/executable/condense.ts';
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
  condense: condenseExecutable,
  catalog(files, ctx) {
    const out: Component[] = [];
    for (const file of files) {
      try {
        const packages = readCargoAudit(parseExecutable(file.data, file.entry.path), file.entry.path) ?? [];
        const purls = packages.map((p) =>
          new PackageURL('cargo', undefined, p.name, p.version || undefined).toString(),
        );
        for (const [i, p] of packages.entries()) {
          const properties: Record<string, string> = { 'waybill:cargo:source': p.source };
          if (p.kind !== 'runtime') properties['waybill:cargo:kind'] = p.kind;
          const component: Component = {
            type: p.root ? 'application' : 'library',
            ecosystem: 'cargo',
            name: p.name,
            version: p.version,
            purl: purls[i]!,
            licenses: [],
            foundAt: [file.entry.path],
            properties,
            ...(file.entry.layer !== undefined ? { layer: file.entry.layer } : {}),
          };
          // cargo-auditable records each crate's dependencies as indexes into the same list.
          const deps = [...new Set(p.dependencies.map((d) => purls[d]!))].sort();
          if (deps.length > 0) component.dependsOn = deps;
          out.push(component);
        }
      } catch (e) {
        if (!isWaybillError(e)) throw e;
        ctx.warn(file.entry.path, e.reason);
      }
    }
    return out;
  },
};
