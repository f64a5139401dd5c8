/**
 * Go cataloger: the module build info the Go linker embeds in every module-aware binary (what
 * `go version -m` prints). One binary gives its main module (application), every dependency module
 * as linked (replacements applied), and the standard library at the toolchain's version.
 */
import { PackageURL } from 'packageurl-js';
import { isWaybillError } from '../errors.ts';
import { condenseExecutable } from '../formats/executable/condense.ts';
import { parseExecutable, sniffExecutable, wantExecutable } from '../formats/executable/executable.ts';
import {
  GO_BUILDINFO_MAGIC,
  type GoBuildInfo,
  type GoModule,
  readGoBuildInfo,
} from '../formats/executable/go-buildinfo.ts';
import { containsBytes } from '../sources/content-match.ts';
import type { WalkedFile } from '../sources/types.ts';
import type { Cataloger, Component } from './types.ts';

/** A local-directory replacement (`=> ../fork`) has no version and a file path for a module path. */
const isLocalPath = (p: string) =>
  p.startsWith('./') || p.startsWith('../') || p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p);

export const goCataloger: Required<Pick<Cataloger, 'keep'>> & Cataloger = {
  name: 'go-module-binary',
  want: wantExecutable,
  sniff: (_entry, head) => sniffExecutable(head),
  // Every build info blob starts with the magic, so an executable without it has nothing to read:
  // the walk drops it instead of holding every ELF file of an image until the catalogers run.
  // Searched from "Go buil": the leading 0xff is too common in machine code to scan for quickly.
  keep: (_entry, data) => containsBytes(data, GO_BUILDINFO_MAGIC, 2),
  condense: condenseExecutable,
  catalog(files, ctx) {
    const out: Component[] = [];
    for (const file of files) {
      try {
        const info = readGoBuildInfo(parseExecutable(file.data, file.entry.path), file.entry.path);
        if (info) for (const c of componentsOf(info, file)) out.push(c);
      } catch (e) {
        if (!isWaybillError(e)) throw e;
        ctx.warn(file.entry.path, e.reason);
      }
    }
    return out;
  },
};

function golangPurl(path: string, version: string): string {
  const slash = path.lastIndexOf('/');
  const namespace = slash > 0 ? path.slice(0, slash) : undefined;
  const name = slash > 0 ? path.slice(slash + 1) : path;
  return new PackageURL('golang', namespace, name, version || undefined).toString();
}

function base(file: WalkedFile): Pick<Component, 'foundAt' | 'licenses' | 'layer'> {
  return {
    foundAt: [file.entry.path],
    licenses: [],
    ...(file.entry.layer !== undefined ? { layer: file.entry.layer } : {}),
  };
}

/** `go1.22.1` → `1.22.1`; `go1.22.1 X:boringcrypto` → `1.22.1` (the experiment becomes a property). */
export function stdlibVersion(goVersion: string): string {
  const first = goVersion.trim().split(/\s+/)[0] ?? '';
  return first.startsWith('go') ? first.slice(2) : first;
}

export function componentsOf(info: GoBuildInfo, file: WalkedFile): Component[] {
  const out: Component[] = [];
  const toolchain = info.goVersion;

  // A build outside module mode (GOPATH, as Debian's dh-golang builds; `go build file.go`) records a
  // package path but no main module: no module to name or version, so no component (`go version -m`
  // and Trivy list none either). The binary still gives the standard library it links.
  if (info.main) {
    const path = info.main.path;
    const version = info.main.version;
    const properties: Record<string, string> = { 'waybill:go:toolchain': toolchain };
    if (info.path && info.path !== path) properties['waybill:go:package'] = info.path;
    if (version === '(devel)') {
      // Syft and Trivy keep "(devel)" too: the toolchain did not know a version (built from a
      // checkout, not `go install mod@version`); the VCS revision below is the real identity.
      properties['waybill:go:version-note'] =
        '(devel): built from a source tree; the Go toolchain recorded no module version';
    }
    for (const s of info.settings) properties[`waybill:go:build:${s.key}`] = s.value;
    const revision = info.settings.find((s) => s.key === 'vcs.revision')?.value;
    if (revision) properties['waybill:go:vcs.revision'] = revision;
    if (info.main?.sum) properties['waybill:go:sum'] = info.main.sum;
    out.push({
      type: 'application',
      ecosystem: 'golang',
      name: path,
      version,
      purl: golangPurl(path, version),
      properties,
      ...base(file),
    });
  }

  const main = out[0];
  for (const dep of info.deps) out.push(depComponent(dep, file));

  if (toolchain) {
    const version = stdlibVersion(toolchain);
    const properties: Record<string, string> = { 'waybill:go:toolchain': toolchain };
    const experiment = toolchain.trim().split(/\s+/).slice(1).join(' ');
    if (experiment) properties['waybill:go:experiment'] = experiment;
    out.push({
      type: 'library',
      ecosystem: 'golang',
      name: 'stdlib',
      version,
      purl: new PackageURL('golang', undefined, 'stdlib', version || undefined).toString(),
      properties,
      ...base(file),
    });
  }
  // Build info lists the modules linked into the main module's binary, not the graph between them
  // (go.mod's requirements are not recorded): the main module depends on each of them and on the
  // standard library.
  if (main) {
    const deps = [...new Set(out.slice(1).map((c) => c.purl))].filter((p) => p !== main.purl).sort();
    if (deps.length > 0) main.dependsOn = deps;
  }
  return out;
}

function depComponent(dep: GoModule, file: WalkedFile): Component {
  const properties: Record<string, string> = {};
  let used: GoModule = dep;
  if (dep.replace) {
    if (isLocalPath(dep.replace.path) || dep.replace.version === '') {
      // A directory replacement has no module identity of its own: name the module it stands in for.
      properties['waybill:go:replaced-by'] = dep.replace.path;
    } else {
      used = dep.replace;
      properties['waybill:go:replaces'] = dep.version ? `${dep.path}@${dep.version}` : dep.path;
    }
  }
  if (used.sum) properties['waybill:go:sum'] = used.sum;
  return {
    type: 'library',
    ecosystem: 'golang',
    name: used.path,
    version: used.version,
    purl: golangPurl(used.path, used.version),
    properties,
    ...base(file),
  };
}
