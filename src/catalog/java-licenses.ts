/**
 * The licenses a Java archive declares for itself: its embedded POM's `<licenses>` (Maven writes
 * `META-INF/maven/<g>/<a>/pom.xml` beside pom.properties), else the manifest's OSGi
 * `Bundle-License`, else a `META-INF/LICENSE` file that is the Apache License 2.0 text (Apache
 * Commons jars inherit `<licenses>` from a parent POM and carry only that). Names and URLs become SPDX ids where recognised (license-names.ts), else stay
 * as written. A POM that inherits its licenses from a parent POM declares none in the jar: nothing
 * is made up for it.
 */
import { bundleLicenses } from './jar-manifest.ts';
import { declaredLicense, isUrl, recognisedLicense, spdxForLicenseName } from './license-names.ts';
import { pomLicenses } from './pom-licenses.ts';

/**
 * Several licenses in a POM are a choice ("it is assumed that the user can select any of them, not
 * that they must accept all", POM reference, Licenses): one `A OR B` expression when each is an SPDX
 * id, else each as written.
 */
export function pomDeclaredLicenses(xml: string): string[] {
  const entries = pomLicenses(xml);
  const ids = entries.map((e) => recognisedLicense(e.name, e.url));
  if (ids.length > 1 && ids.every((id) => id !== undefined)) {
    const distinct = [...new Set(ids as string[])];
    if (distinct.length === 1) return distinct;
    return [distinct.map((id) => (/\s(AND|OR)\s/.test(id) ? `(${id})` : id)).join(' OR ')];
  }
  return unique(entries.map((e) => declaredLicense(e.name, e.url)));
}

/** A `Bundle-License` header value → its licenses (SPDX ids where recognised). */
export function bundleDeclaredLicenses(value: string): string[] {
  const standalone = (name: string) => isUrl(name) || spdxForLicenseName(name) !== undefined;
  const clauses = bundleLicenses(value, standalone);
  return unique(
    clauses.map((c) => declaredLicense(isUrl(c.name) ? undefined : c.name, isUrl(c.name) ? c.name : c.link)),
  );
}

/**
 * A `META-INF/LICENSE[.txt]` that begins with the Apache License 2.0's own title. Only that text is
 * recognised: it opens with a fixed title, while other license files begin with copyright lines
 * or differ from project to project.
 */
export function licenseFileDeclaredLicenses(text: string): string[] {
  const head = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .slice(0, 200);
  return /^Apache License\s+Version 2\.0, January 2004\b/.test(head) ? ['Apache-2.0'] : [];
}

function unique(list: Array<string | undefined>): string[] {
  return [...new Set(list.filter((l): l is string => l !== undefined))];
}
