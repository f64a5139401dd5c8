/**
 * Choosing one image of a multi-platform index by `os/arch[/variant]`, with the normalizations
 * containerd's platforms package applies (arm64 means arm64/v8 when no variant is written).
 */
import { WaybillError } from '../errors.ts';
import { type Platform, platformString } from '../oci/types.ts';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatformSpec(text: string): PlatformSpec {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw new WaybillError('USAGE', text, 'platform must look like os/arch or os/arch/variant (linux/arm64)');
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** The variant a platform implies when none is written (image-spec platform variants table). */
function effectiveVariant(p: { architecture: string; variant?: string }): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  return undefined;
}

/** Does `platform` satisfy `wanted`? A wanted platform without a variant matches any variant. */
export function platformMatches(wanted: PlatformSpec, platform: Platform): boolean {
  if (wanted.os !== platform.os || wanted.architecture !== platform.architecture) return false;
  if (wanted.variant === undefined) return true;
  return effectiveVariant(wanted) === effectiveVariant(platform);
}

/**
 * Picks the one item whose platform matches `wanted`. No match, or several (linux/arm/v6 and v7 for
 * "linux/arm"), is a USAGE error listing what there is.
 */
export function choosePlatform<T>(
  items: T[],
  platformOf: (item: T) => Platform,
  wanted: string,
  input: string,
): T {
  const spec = parsePlatformSpec(wanted);
  const matches = items.filter((item) => platformMatches(spec, platformOf(item)));
  const available = items.map((item) => platformString(platformOf(item))).join(', ');
  if (matches.length === 0) {
    throw new WaybillError('USAGE', input, `no image for platform ${wanted}; available: ${available}`);
  }
  if (matches.length > 1) {
    const exact = matches.filter((item) => platformString(platformOf(item)) === wanted);
    if (exact.length === 1) return exact[0] as T;
    throw new WaybillError('USAGE', input, `platform ${wanted} is ambiguous; available: ${available}`);
  }
  return matches[0] as T;
}
