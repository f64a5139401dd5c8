/**
 * Reads files that carry signed statements, in the shapes other tools write them:
 * - a Sigstore bundle (`*.sigstore.json`, `*.sigstore`, v0.1–v0.3): cosign, sigstore-js/-python/-go,
 *   slsa-github-generator v2, GitHub artifact attestations, Bazel Central Registry;
 * - a bare DSSE envelope `{payloadType, payload, signatures}` (`cosign attest --key`, trivy, grype),
 *   whose signatures may carry a PEM certificate (`cert`, slsa-github-generator v1 `.intoto.jsonl`);
 * - JSON Lines of either (`.intoto.jsonl`, `gh attestation download`), one per line;
 * - the npm registry's attestations document `{attestations: [{predicateType, bundle}]}`.
 *
 * JSON that cannot be parsed, or JSON that is none of these, is unreadable input (MALFORMED). A
 * bundle whose structure is invalid (an unknown version, an empty certificate chain) is read as an
 * `invalid` item: it is evidence that fails verification, judged like a bad signature.
 */
import { readFile, stat } from 'node:fs/promises';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { WaybillError } from '../errors.ts';
import { checkedDepth } from '../util/json-depth.ts';

/** One DSSE signature; `certificatePem` when the envelope carries the signing certificate itself. */
export interface EnvelopeSignature {
  keyid: string;
  sig: Buffer;
  certificatePem?: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: Buffer;
  signatures: EnvelopeSignature[];
}

export type SignedItem =
  | { kind: 'bundle'; source: string; bundle: Bundle }
  | { kind: 'envelope'; source: string; envelope: DsseEnvelope }
  | { kind: 'invalid'; source: string; reason: string };

/** Largest file read: SBOM attestations of big images run to tens of MiB. */
export const MAX_SIGNED_FILE_BYTES = 256 * 1024 * 1024;
/**
 * All the files read for one artifact together: its directory may hold any number of
 * `NAME.<kind>.sigstore.json`, each held in memory, so a limit per file is no bound.
 */
export const MAX_SIGNED_FILES_TOTAL_BYTES = 512 * 1024 * 1024;

/**
 * Refuses `paths` (LIMIT, naming the first file past the total) when together they are larger than
 * MAX_SIGNED_FILES_TOTAL_BYTES, before any is read. Missing files count nothing: reading reports them.
 */
export async function requireSignedFilesTotal(paths: readonly string[]): Promise<void> {
  let total = 0;
  for (const path of paths) {
    total += (await stat(path).catch(() => undefined))?.size ?? 0;
    if (total > MAX_SIGNED_FILES_TOTAL_BYTES)
      throw new WaybillError(
        'LIMIT',
        path,
        `the signed statement files read for one artifact add up to more than ${MAX_SIGNED_FILES_TOTAL_BYTES} bytes`,
      );
  }
}

const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** DSSE allows standard and URL-safe base64 (envelope.md); anything else is not base64. */
function decodeBase64(value: unknown, source: string, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value.replace(/\s+/g, ''))) {
    throw new WaybillError('MALFORMED', source, `${what} is not base64`);
  }
  return Buffer.from(value, 'base64');
}

function parseEnvelope(raw: Record<string, unknown>, source: string): DsseEnvelope {
  if (typeof raw.payloadType !== 'string') {
    throw new WaybillError('MALFORMED', source, 'DSSE envelope: payloadType must be a string');
  }
  if (!Array.isArray(raw.signatures)) {
    throw new WaybillError('MALFORMED', source, 'DSSE envelope: signatures must be a list');
  }
  const signatures = raw.signatures.map((s, i): EnvelopeSignature => {
    if (!isPlainObject(s))
      throw new WaybillError('MALFORMED', source, `DSSE envelope: signatures[${i}] must be an object`);
    const cert = s.cert ?? s.certificate;
    return {
      keyid: typeof s.keyid === 'string' ? s.keyid : '',
      sig: decodeBase64(s.sig, source, `DSSE envelope: signatures[${i}].sig`),
      ...(typeof cert === 'string' && cert.includes('BEGIN CERTIFICATE') ? { certificatePem: cert } : {}),
    };
  });
  return {
    payloadType: raw.payloadType,
    payload: decodeBase64(raw.payload, source, 'DSSE envelope: payload'),
    signatures,
  };
}

function readBundle(raw: Record<string, unknown>, source: string): SignedItem {
  try {
    return { kind: 'bundle', source, bundle: bundleFromJSON(raw) };
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { kind: 'invalid', source, reason: `invalid Sigstore bundle: ${message}` };
  }
}

/** Classifies one parsed JSON document; `source` is the file (and line) for messages. */
function itemsOf(value: unknown, source: string): SignedItem[] {
  if (!isPlainObject(value)) {
    throw new WaybillError(
      'MALFORMED',
      source,
      'expected a Sigstore bundle or a DSSE envelope (a JSON object)',
    );
  }
  if (typeof value.mediaType === 'string' && value.mediaType.startsWith(BUNDLE_MEDIA_TYPE)) {
    return [readBundle(value, source)];
  }
  if ('payloadType' in value && 'signatures' in value)
    return [{ kind: 'envelope', source, envelope: parseEnvelope(value, source) }];
  if (Array.isArray(value.attestations)) {
    // npm registry / GitHub attestations API: {attestations: [{predicateType?, bundle}]}
    return value.attestations.flatMap((a, i) => {
      const at = `${source}#attestations[${i}]`;
      if (!isPlainObject(a) || !isPlainObject(a.bundle)) {
        throw new WaybillError('MALFORMED', at, 'expected {bundle: {...}}');
      }
      return itemsOf(a.bundle, at);
    });
  }
  throw new WaybillError(
    'MALFORMED',
    source,
    'neither a Sigstore bundle (mediaType application/vnd.dev.sigstore.bundle…) nor a DSSE envelope',
  );
}

/** Parses the text of one file: a single JSON document, else JSON Lines. */
export function parseSignedText(text: string, source: string): SignedItem[] {
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = JSON.parse(text);
  } catch (e) {
    wholeError = e as Error;
  }
  if (wholeError === undefined) return itemsOf(checkedDepth(whole, source), source);
  const lines = text.split('\n');
  const nonEmpty = lines.filter((l) => l.trim() !== '');
  if (nonEmpty.length <= 1) {
    throw new WaybillError('MALFORMED', source, `not valid JSON: ${wholeError.message}`);
  }
  const items: SignedItem[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const at = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new WaybillError(
        'MALFORMED',
        at,
        `not valid JSON (one document per line expected): ${(e as Error).message}`,
      );
    }
    items.push(...itemsOf(checkedDepth(value, at), at));
  });
  return items;
}

export async function readSignedFile(path: string): Promise<SignedItem[]> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new WaybillError(
      'NOT_FOUND',
      path,
      e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code})`,
    );
  });
  if (!info.isFile()) throw new WaybillError('USAGE', path, 'is not a regular file');
  if (info.size > MAX_SIGNED_FILE_BYTES) {
    throw new WaybillError('LIMIT', path, `larger than ${MAX_SIGNED_FILE_BYTES} bytes`);
  }
  const bytes = await readFile(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new WaybillError('MALFORMED', path, 'is not UTF-8 text (expected JSON)');
  }
  return parseSignedText(text, path);
}
