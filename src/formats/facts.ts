/**
 * Native facts: what an artifact says about itself in the metadata mechanism of its own format, each
 * value with the field it came from, so `inspect` can say where a fact was read and `check` can
 * compare it with the record.
 */

export interface Fact {
  value: string;
  /** Human-readable origin, e.g. `OCI annotation org.opencontainers.image.version`, `deb Bugs field`. */
  field: string;
  /**
   * Read from somewhere other than the format's own identity field — the Go build info of an ELF file
   * without a package note — so a name or version given to `stamp` may take its place (the stamp
   * then writes the identity field). Absent for facts the artifact states outright.
   */
  inferred?: true;
}

export interface NativeFacts {
  /** The metadata mechanism: `oci-image`, `docker-image`, `deb`, `rpm`, `apk`, `wheel`, `sdist`, `elf`, `os-release`, `vagrant`, `none`. */
  format: string;
  /**
   * Whether this format has a place for name, version and architecture. A plain tarball has none,
   * so `check` does not ask for native identity there.
   */
  hasIdentityFields: boolean;
  name?: Fact;
  version?: Fact;
  /** Architectures (one per platform for multi-platform images). */
  architectures: Fact[];
  created?: Fact;
  team?: Fact;
  bugTracker?: Fact;
  docs?: Fact;
  license?: Fact;
  sourceRepository?: Fact;
  revision?: Fact;
  /** Every free-text field the `team` rule scans for community wording (vendor, authors, description…). */
  texts: Fact[];
}

export function emptyFacts(format = 'none'): NativeFacts {
  return { format, hasIdentityFields: false, architectures: [], texts: [] };
}
