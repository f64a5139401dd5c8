/**
 * License names and URLs as Java metadata writes them (a pom.xml `<license>`'s `<name>` and `<url>`,
 * an OSGi `Bundle-License`) → SPDX ids, only where the name or URL is recognised without doubt: the
 * canonical URL of a license text (apache.org/licenses/LICENSE-2.0, gnu.org/licenses/gpl-3.0,
 * opensource.org/licenses/<SPDX id>…) or one of the usual titles ("The Apache Software License,
 * Version 2.0", "Eclipse Public License - v 2.0", "MIT License"). Anything else is kept as written
 * by the caller: a name that maps to nothing is never given an id.
 */
import { isValidSpdxExpression, knownLicenseId } from '../sbom/license.ts';
import { spdxForShortName } from './deb-copyright.ts';

/**
 * Titles, compacted (`compactName`): lowercase, "licence" spelled "license", no leading "the", no
 * "version"/"v" before a number, nothing but letters, digits, `.` and `+`.
 */
const TITLES = new Map<string, string>(
  Object.entries({
    apache2: 'Apache-2.0',
    'apache2.0': 'Apache-2.0',
    apachelicense2: 'Apache-2.0',
    'apachelicense2.0': 'Apache-2.0',
    apachesoftwarelicense2: 'Apache-2.0',
    'apachesoftwarelicense2.0': 'Apache-2.0',
    asl2: 'Apache-2.0',
    'asl2.0': 'Apache-2.0',
    'apachelicense1.1': 'Apache-1.1',
    'apachesoftwarelicense1.1': 'Apache-1.1',
    mitlicense: 'MIT',
    mitnoattribution: 'MIT-0',
    bsd2clause: 'BSD-2-Clause',
    bsd2clauselicense: 'BSD-2-Clause',
    '2clausebsdlicense': 'BSD-2-Clause',
    simplifiedbsdlicense: 'BSD-2-Clause',
    freebsdlicense: 'BSD-2-Clause',
    bsd3clause: 'BSD-3-Clause',
    bsd3clauselicense: 'BSD-3-Clause',
    '3clausebsdlicense': 'BSD-3-Clause',
    newbsdlicense: 'BSD-3-Clause',
    revisedbsdlicense: 'BSD-3-Clause',
    // The Eclipse Distribution License 1.0 is the BSD 3-clause text (SPDX lists its URL under BSD-3-Clause).
    'eclipsedistributionlicense1.0': 'BSD-3-Clause',
    eclipsepubliclicense1: 'EPL-1.0',
    'eclipsepubliclicense1.0': 'EPL-1.0',
    eclipsepubliclicense2: 'EPL-2.0',
    'eclipsepubliclicense2.0': 'EPL-2.0',
    'mozillapubliclicense1.1': 'MPL-1.1',
    'mozillapubliclicense2.0': 'MPL-2.0',
    mozillapubliclicense2: 'MPL-2.0',
    'commondevelopmentanddistributionlicense1.0': 'CDDL-1.0',
    'commondevelopmentanddistributionlicensecddl1.0': 'CDDL-1.0',
    'commondevelopmentanddistributionlicense1.1': 'CDDL-1.1',
    'commondevelopmentanddistributionlicensecddl1.1': 'CDDL-1.1',
    'cddl1.0': 'CDDL-1.0',
    'cddl1.1': 'CDDL-1.1',
    isclicense: 'ISC',
    'boostsoftwarelicense1.0': 'BSL-1.0',
    cc0: 'CC0-1.0',
    'cc01.0': 'CC0-1.0',
    'cc0universal1.0': 'CC0-1.0',
    'creativecommonszerov1.0universal': 'CC0-1.0',
    unlicense: 'Unlicense',
    zliblicense: 'Zlib',
    'europeanunionpubliclicense1.1': 'EUPL-1.1',
    'europeanunionpubliclicense1.2': 'EUPL-1.2',
    'eupl1.1': 'EUPL-1.1',
    'eupl1.2': 'EUPL-1.2',
  }),
);

/**
 * The GNU family by name: "GNU Lesser General Public License, Version 2.1", "LGPL 2.1 or later",
 * "GPLv3+". A version with no "or later" is that version only: the GPL itself says so (GPLv2 §9,
 * GPLv3 §14: "any later version" applies only when the Program says so).
 */
const GNU_NAME =
  /^(?:gnu)?(lesser|library|affero)?(?:generalpubliclicense|(a|l)?gpl)v?(\d(?:\.\d)?)(\+|orlater|oranylaterversion|orlaterversion|only)?$/;

/** The compact form `TITLES` is keyed by. */
export function compactName(name: string): string {
  return name
    .toLowerCase()
    .replace(/licence/g, 'license')
    .replace(/^\s*the\s+/, '')
    .replace(/\b(?:version|ver\.?|v\.?)\s*(?=\d)/g, '')
    .replace(/[^a-z0-9.+]+/g, '')
    .replace(/\.+$/, '');
}

function gnuFromCompact(compact: string): string | undefined {
  const m = GNU_NAME.exec(compact);
  if (!m) return undefined;
  const kind = m[1] ?? m[2];
  const family =
    kind === 'affero' || kind === 'a'
      ? 'AGPL'
      : kind === 'lesser' || kind === 'library' || kind === 'l'
        ? 'LGPL'
        : 'GPL';
  const later = m[4] !== undefined && m[4] !== 'only';
  return spdxForShortName(`${family}-${m[3]}${later ? '+' : ''}`);
}

/**
 * A license name → an SPDX id (or the SPDX expression it already is), or undefined when it is not
 * recognised. `Apache-2.0` and `EPL-2.0 OR GPL-2.0-only WITH Classpath-exception-2.0` are SPDX
 * already; "The Apache Software License, Version 2.0" is a title of one.
 */
export function spdxForLicenseName(name: string): string | undefined {
  const text = name.trim().replace(/\s+/g, ' ');
  if (text === '' || text.length > 200) return undefined;
  const id = knownLicenseId(text);
  if (id) return id;
  // An expression with operators: every id in it must be a real one (the parser checks).
  if (/\s(AND|OR|WITH)\s/.test(text) && isValidSpdxExpression(text) && !/LicenseRef-/.test(text)) return text;
  // "The MIT License (MIT)": a title followed by its own id in parentheses.
  const paren = /^(.*?)\s*\(([^()]+)\)$/.exec(text);
  if (paren) {
    const inner = knownLicenseId(paren[2]!.trim());
    const outer = spdxForTitle(paren[1]!);
    if (outer !== undefined && (inner === undefined || inner === outer)) return outer;
    if (outer === undefined && inner !== undefined && spdxForTitle(`${paren[1]} ${paren[2]}`) === inner)
      return inner;
  }
  return spdxForTitle(text);
}

function spdxForTitle(text: string): string | undefined {
  const compact = compactName(text);
  return TITLES.get(compact) ?? gnuFromCompact(compact);
}

/** The URL of a license text without scheme, `www.`, query, fragment, trailing `/` and file suffix. */
function urlKey(url: string): string | undefined {
  const m = /^\s*(?:https?:\/\/)?(?:www\.)?([a-z0-9.-]+\.[a-z]{2,})(\/[^\s?#]*)?(?:[?#]\S*)?\s*$/i.exec(url);
  if (!m) return undefined;
  const path = (m[2] ?? '')
    .replace(/\/+$/, '')
    .replace(/\.(txt|html?|php|md)$/i, '')
    .replace(/\/+$/, '');
  return `${m[1]!}${path}`.toLowerCase();
}

const URLS = new Map<string, string>(
  Object.entries({
    'apache.org/licenses/license-2.0': 'Apache-2.0',
    'apache.org/licenses/license-1.1': 'Apache-1.1',
    'opensource.org/licenses/mit-license': 'MIT',
    'opensource.org/licenses/apache2.0': 'Apache-2.0',
    'eclipse.org/legal/epl-v10': 'EPL-1.0',
    'eclipse.org/org/documents/epl-v10': 'EPL-1.0',
    'eclipse.org/legal/epl-v20': 'EPL-2.0',
    'eclipse.org/legal/epl-2.0': 'EPL-2.0',
    'eclipse.org/org/documents/epl-2.0': 'EPL-2.0',
    'eclipse.org/org/documents/edl-v10': 'BSD-3-Clause',
    'mozilla.org/mpl/2.0': 'MPL-2.0',
    'mozilla.org/mpl/mpl-1.1': 'MPL-1.1',
    'mozilla.org/en-us/mpl/2.0': 'MPL-2.0',
    'creativecommons.org/publicdomain/zero/1.0': 'CC0-1.0',
    'creativecommons.org/publicdomain/zero/1.0/legalcode': 'CC0-1.0',
    'unlicense.org': 'Unlicense',
  }),
);

/** gnu.org/licenses/lgpl-2.1, …/old-licenses/gpl-2.0: the text of one version (only that version, see GNU_NAME). */
const GNU_URL =
  /^gnu\.org\/licenses\/(?:old-licenses\/)?(a?gpl|lgpl)-?(\d(?:\.\d)?)(?:\.en)?(?:-standalone)?$/;

/** A license text's URL → its SPDX id, or undefined when the URL is not one we know. */
export function spdxForLicenseUrl(url: string): string | undefined {
  const key = urlKey(url);
  if (!key) return undefined;
  const known = URLS.get(key);
  if (known) return known;
  const gnu = GNU_URL.exec(key);
  if (gnu) return spdxForShortName(`${gnu[1]!.toUpperCase()}-${gnu[2]}`);
  // opensource.org and spdx.org name their pages by SPDX id (opensource.org/licenses/BSD-3-Clause).
  const byId = /^(?:opensource\.org\/licenses?|spdx\.org\/licenses)\/([A-Za-z0-9.+-]+)$/.exec(key);
  return byId ? knownLicenseId(byId[1]!) : undefined;
}

/** Text that is a URL rather than a name. */
export function isUrl(text: string): boolean {
  return /^\s*https?:\/\/\S+\s*$/i.test(text);
}

/** Words that make a name more than the plain license its URL names (an exception, "or later"). */
const QUALIFIED = /\b(exception|with|later|only|modified|variant|and|or|classpath|cpe|linking)\b|\bw\/|\+/i;

/**
 * One declared license (a name, a URL, or both, as a pom's `<license>` gives it) → its SPDX id, or
 * undefined when not recognised. The name decides; the URL is used when there is no name, or when
 * the name is unrecognised but says nothing the URL's license does not (no exception, no "or later").
 */
export function recognisedLicense(name: string | undefined, url: string | undefined): string | undefined {
  const n = name?.trim().replace(/\s+/g, ' ') || undefined;
  const u = url?.trim() || undefined;
  const fromName = n === undefined ? undefined : isUrl(n) ? spdxForLicenseUrl(n) : spdxForLicenseName(n);
  if (fromName) return fromName;
  if (n !== undefined && QUALIFIED.test(n)) return undefined;
  return u ? spdxForLicenseUrl(u) : undefined;
}

/** The SPDX id of a declared license when recognised, else its name (or URL) as written. */
export function declaredLicense(name: string | undefined, url: string | undefined): string | undefined {
  return (
    recognisedLicense(name, url) ??
    (name?.trim().replace(/\s+/g, ' ') || undefined) ??
    (url?.trim() || undefined)
  );
}
