/**
 * Components and catalogers: the manifest engine's model. A cataloger is a path matcher plus a
 * parser; the engine walks the artifact once, hands each cataloger only the files it asked for, and
 * merges what they return.
 */
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import type { ByteSource } from '../util/byte-source.ts';

export type Ecosystem = 'deb' | 'apk' | 'rpm' | 'pypi' | 'npm' | 'golang' | 'cargo' | 'maven' | 'generic';

export interface Component {
  type: 'library' | 'application' | 'operating-system' | 'framework' | 'file';
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** Package URL (purl-spec), built with packageurl-js. Unique key of a component in one SBOM. */
  purl: string;
  /** Declared licenses as found (SPDX expressions where the data has them, else the raw string). */
  licenses: string[];
  supplier?: string;
  description?: string;
  /** Paths inside the artifact where the evidence was found, sorted. */
  foundAt: string[];
  /** The first layer in which the component appears (honouring later whiteouts); images only. */
  layer?: string;
  /** Extra facts, keys prefixed `waybill:` (e.g. `waybill:source-package`, `waybill:go:vcs.revision`). */
  properties: Record<string, string>;
  hashes?: Array<{ alg: 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-512'; content: string }>;
  /**
   * How the component is known to be there. `installed` (the default when absent): found installed
   * in the artifact — a package database, an installed package's own metadata, a binary's build
   * info. `declared`: a lock file is the only evidence (a source tree whose dependencies are not
   * installed). `packaged`: only a package file lying in the artifact names it (a wheel in a
   * wheelhouse, or left behind by a build stage), which no installer has unpacked. SBOMs mark both
   * (CycloneDX scope `optional`, "not installed"; property `waybill:presence`).
   */
  presence?: 'installed' | 'declared' | 'packaged';
  /**
   * Keys (`componentKey`) of the components this one depends on, resolved inside the artifact (a
   * dependency that is not installed has no edge). The engine drops edges to keys it does not have.
   */
  dependsOn?: string[];
  /**
   * A copy bundled inside another package (vendored: Next.js `dist/compiled/*`): the carrier's key.
   * The copy is a component of its own, nested under the carrier in the SBOM.
   */
  vendoredIn?: string;
}

/**
 * A component's identity inside one SBOM: its purl, or for a vendored copy the carrier's key and
 * its purl (the same package may be installed at the top and vendored inside another one).
 */
export function componentKey(c: Pick<Component, 'purl' | 'vendoredIn'>): string {
  return c.vendoredIn ? `${c.vendoredIn}|${c.purl}` : c.purl;
}

/** The operating system of a root filesystem, from os-release; qualifies OS package purls. */
export interface Distro {
  id: string;
  versionId?: string;
  versionCodename?: string;
  name?: string;
  prettyName?: string;
}

export interface CatalogContext {
  distro?: Distro;
  /**
   * When the artifact is itself a package (a .deb, .rpm, wheel…): the package, from its own metadata.
   * A cataloger that finds more about it in the walk (a .deb's copyright file) returns a component
   * with the same purl; the SBOM writer makes it the document's subject.
   */
  subject?: Component;
  /** Report a skipped input: the file and why. The SBOM is still produced from the rest. */
  warn(path: string, reason: string): void;
}

/**
 * `Cataloger.maxSize` of the catalogers of text files read whole — package databases, metadata,
 * manifests, lockfiles: a few MiB at most even on the largest systems. A file of this size is
 * hostile (a few hundred KiB of gzip make one), and reading it whole, then as a string, would take
 * several times its size in memory.
 */
export const TEXT_FILE_MAX = 64 * 1024 * 1024;

export interface Cataloger {
  name: string;
  want(entry: FileEntry): boolean | 'sniff';
  sniff?(entry: FileEntry, head: Buffer): boolean;
  /**
   * Decide from a wanted file's whole content whether to keep it (see FileFilter.keep): lets a
   * cataloger that must look at every executable keep only those that carry what it reads.
   */
  keep?(entry: FileEntry, data: Buffer): boolean;
  /**
   * A smaller copy of a kept file that `catalog` reads exactly as it reads the whole file (see
   * FileFilter.condense). The walk uses it only when every cataloger taking the file has the same
   * `condense`, so catalogers that read the same parts of a file share one function.
   */
  condense?(entry: FileEntry, source: ByteSource): Buffer | undefined;
  /**
   * The largest `entry` it reads, when such files are small by nature and read whole as text
   * (package databases, metadata files): a larger one is skipped with a warning before it is read
   * (FileFilter.maxSize). Unset or undefined: the walk's maxFileSize.
   */
  maxSize?(entry: FileEntry): number | undefined;
  /** Parse every file this cataloger wanted. Bad input is reported with ctx.warn, never thrown. */
  catalog(files: WalkedFile[], ctx: CatalogContext): Component[] | Promise<Component[]>;
}
