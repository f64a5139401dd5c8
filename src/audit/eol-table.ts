/**
 * The embedded end-of-life table: when security support ends for the releases of the distributions
 * images are built on. Facts as published by the projects (Debian and Ubuntu: distro-info-data and
 * their release pages; Alpine: alpinelinux.org/releases; Red Hat, Rocky Linux, AlmaLinux, CentOS:
 * their product life-cycle pages), as of 2026-08. `waybill db import FILE` with a
 * `waybill.dev/eol/v1` document (see data-files.ts) adds releases or replaces these rows.
 *
 * `eol` is the end of regular security support; `eolExtended` the end of free extended support
 * (Debian LTS). Paid extensions (Ubuntu Pro/ESM, RHEL ELS) are not counted.
 */
import type { EolEntry } from './data-files.ts';

export const EMBEDDED_EOL_AS_OF = '2026-08-01';

export const EMBEDDED_EOL: readonly EolEntry[] = [
  {
    distro: 'debian',
    release: '6',
    codename: 'squeeze',
    released: '2011-02-06',
    eol: '2014-05-31',
    eolExtended: '2016-02-29',
  },
  {
    distro: 'debian',
    release: '7',
    codename: 'wheezy',
    released: '2013-05-04',
    eol: '2016-04-25',
    eolExtended: '2018-05-31',
  },
  {
    distro: 'debian',
    release: '8',
    codename: 'jessie',
    released: '2015-04-26',
    eol: '2018-06-17',
    eolExtended: '2020-06-30',
  },
  {
    distro: 'debian',
    release: '9',
    codename: 'stretch',
    released: '2017-06-17',
    eol: '2020-07-06',
    eolExtended: '2022-06-30',
  },
  {
    distro: 'debian',
    release: '10',
    codename: 'buster',
    released: '2019-07-06',
    eol: '2022-09-10',
    eolExtended: '2024-06-30',
  },
  {
    distro: 'debian',
    release: '11',
    codename: 'bullseye',
    released: '2021-08-14',
    eol: '2024-08-14',
    eolExtended: '2026-08-31',
  },
  {
    distro: 'debian',
    release: '12',
    codename: 'bookworm',
    released: '2023-06-10',
    eol: '2026-06-10',
    eolExtended: '2028-06-30',
  },
  {
    distro: 'debian',
    release: '13',
    codename: 'trixie',
    released: '2025-08-09',
    eol: '2028-08-09',
    eolExtended: '2030-06-30',
  },
  { distro: 'ubuntu', release: '14.04', codename: 'trusty', released: '2014-04-17', eol: '2019-04-25' },
  { distro: 'ubuntu', release: '16.04', codename: 'xenial', released: '2016-04-21', eol: '2021-04-30' },
  { distro: 'ubuntu', release: '18.04', codename: 'bionic', released: '2018-04-26', eol: '2023-05-31' },
  { distro: 'ubuntu', release: '20.04', codename: 'focal', released: '2020-04-23', eol: '2025-05-29' },
  { distro: 'ubuntu', release: '22.04', codename: 'jammy', released: '2022-04-21', eol: '2027-06-01' },
  { distro: 'ubuntu', release: '24.04', codename: 'noble', released: '2024-04-25', eol: '2029-05-31' },
  { distro: 'ubuntu', release: '24.10', codename: 'oracular', released: '2024-10-10', eol: '2025-07-10' },
  { distro: 'ubuntu', release: '25.04', codename: 'plucky', released: '2025-04-17', eol: '2026-01-15' },
  { distro: 'alpine', release: '3.10', released: '2019-06-19', eol: '2021-05-01' },
  { distro: 'alpine', release: '3.11', released: '2019-12-19', eol: '2021-11-01' },
  { distro: 'alpine', release: '3.12', released: '2020-05-29', eol: '2022-05-01' },
  { distro: 'alpine', release: '3.13', released: '2021-01-14', eol: '2022-11-01' },
  { distro: 'alpine', release: '3.14', released: '2021-06-15', eol: '2023-05-01' },
  { distro: 'alpine', release: '3.15', released: '2021-11-24', eol: '2023-11-01' },
  { distro: 'alpine', release: '3.16', released: '2022-05-23', eol: '2024-05-23' },
  { distro: 'alpine', release: '3.17', released: '2022-11-22', eol: '2024-11-22' },
  { distro: 'alpine', release: '3.18', released: '2023-05-09', eol: '2025-05-09' },
  { distro: 'alpine', release: '3.19', released: '2023-12-07', eol: '2025-11-01' },
  { distro: 'alpine', release: '3.20', released: '2024-05-22', eol: '2026-04-01' },
  { distro: 'alpine', release: '3.21', released: '2024-12-05', eol: '2026-11-01' },
  { distro: 'alpine', release: '3.22', released: '2025-05-30', eol: '2027-05-01' },
  { distro: 'rhel', release: '7', released: '2014-06-10', eol: '2024-06-30' },
  { distro: 'rhel', release: '8', released: '2019-05-07', eol: '2029-05-31' },
  { distro: 'rhel', release: '9', released: '2022-05-17', eol: '2032-05-31' },
  { distro: 'centos', release: '7', released: '2014-07-07', eol: '2024-06-30' },
  { distro: 'centos', release: '8', released: '2019-09-24', eol: '2021-12-31' },
  { distro: 'rocky', release: '8', released: '2021-06-21', eol: '2029-05-31' },
  { distro: 'rocky', release: '9', released: '2022-07-14', eol: '2032-05-31' },
  { distro: 'almalinux', release: '8', released: '2021-03-30', eol: '2029-03-01' },
  { distro: 'almalinux', release: '9', released: '2022-05-26', eol: '2032-05-31' },
];

const DEBIAN_CODENAMES: Record<string, string> = {
  squeeze: '6',
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
};

/**
 * The release key a distro's os-release `VERSION_ID` (or codename) is filed under: Debian and the
 * RHEL family by major version (`12`, `9`), Alpine by branch (`3.18.4` → `3.18`), Ubuntu as is
 * (`22.04`).
 */
export function releaseKey(distro: string, version: string): string {
  const id = distro.toLowerCase();
  if (id === 'debian') return DEBIAN_CODENAMES[version] ?? version.split('.')[0] ?? version;
  if (id === 'alpine') return version.split('.').slice(0, 2).join('.');
  if (['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'fedora'].includes(id))
    return version.split('.')[0] ?? version;
  return version;
}
