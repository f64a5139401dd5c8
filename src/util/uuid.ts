/**
 * Name-based UUIDs (version 5, RFC 9562 §5.5): deterministic identifiers derived from content, so an
 * SBOM's serial number and an SPDX document namespace are the same every time the same artifact is
 * described by the same waybill version. No random UUIDs anywhere in waybill's output.
 */
import { createHash } from 'node:crypto';
import { WaybillError } from '../errors.ts';

/** RFC 9562 Appendix A / RFC 4122 §4.3 predefined namespaces. */
export const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
export const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** waybill's own namespace: uuidv5(NAMESPACE_URL, 'https://waybill.dev/'). */
export const NAMESPACE_WAYBILL = '7329450f-e082-51d8-9de0-400612090e71';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidToBytes(uuid: string): Buffer {
  if (!UUID_PATTERN.test(uuid)) throw new WaybillError('USAGE', uuid, 'not a UUID in 8-4-4-4-12 hex form');
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

export function bytesToUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * UUIDv5 of `name` (UTF-8) in `namespace`: SHA-1 over namespace bytes ‖ name bytes, first 128 bits,
 * then the version nibble set to 5 (octet 6) and the variant bits set to 10 (octet 8), RFC 9562 §5.5.
 */
export function uuidV5(name: string | Uint8Array, namespace: string = NAMESPACE_WAYBILL): string {
  const hash = createHash('sha1')
    .update(uuidToBytes(namespace))
    .update(typeof name === 'string' ? Buffer.from(name, 'utf8') : name)
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytesToUuid(bytes);
}
