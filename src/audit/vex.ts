/**
 * OpenVEX input (openvex/spec, v0.0.x to v0.2.0): statements that say whether a vulnerability affects
 * a product. A statement applies to a finding when its vulnerability is the finding's id or one of its
 * aliases, and its product is either the component itself (its purl, with or without version and
 * qualifiers) or the audited artifact (by digest: `@id`, purl, or `hashes`) — then its
 * `subcomponents`, when it lists any, must include the component. Of the statements that apply, the
 * newest decides — OpenVEX statements are a sequence in time, each overriding the ones before
 * ("Inheritance Flow": a statement's `timestamp`, else its document's); equal or missing times keep
 * the order given. `not_affected` and `fixed` suppress the finding (the report lists it as suppressed, with the statement); `affected` and
 * `under_investigation` keep it and carry the statement.
 *
 * A VEX document none of whose statements is about this artifact or its components is refused: it is
 * almost certainly the wrong file, and silently applying nothing would hide that.
 */
import { PackageURL } from 'packageurl-js';
import { WaybillError } from '../errors.ts';
import { checkedDepth } from '../util/json-depth.ts';
import type { Finding } from './findings.ts';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
const STATUSES = new Set<VexStatus>(['not_affected', 'affected', 'fixed', 'under_investigation']);

export interface VexProduct {
  ids: string[];
  subcomponents: string[];
}

export interface VexStatement {
  vulnerability: string;
  vulnerabilityAliases: string[];
  products: VexProduct[];
  status: VexStatus;
  justification?: string;
  impactStatement?: string;
  actionStatement?: string;
  /** When the statement was made (ms since the epoch): its own timestamp, else the document's. */
  time?: number;
}

export interface VexDocument {
  source: string;
  id?: string;
  author?: string;
  statements: VexStatement[];
}

/** What a statement did to a finding, as reported. */
export interface VexVerdict {
  source: string;
  status: VexStatus;
  justification?: string;
  impactStatement?: string;
  actionStatement?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function productIds(p: unknown): string[] {
  if (typeof p === 'string') return [p];
  if (!isObject(p)) return [];
  const ids: string[] = [];
  if (str(p['@id'])) ids.push(p['@id'] as string);
  if (isObject(p.identifiers))
    for (const v of Object.values(p.identifiers)) if (str(v)) ids.push(v as string);
  if (isObject(p.hashes)) for (const v of Object.values(p.hashes)) if (str(v)) ids.push(v as string);
  return ids;
}

/** A timestamp field as milliseconds since the epoch; absent is undefined, a non-date is bad input. */
function timeOf(value: unknown, source: string, at: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw new WaybillError(
      'MALFORMED',
      source,
      // Only a string is quoted: a value nested deep enough overflows the stack when stringified.
      `${at}timestamp is not a date: ${typeof value === 'string' ? JSON.stringify(value) : `a ${Array.isArray(value) ? 'list' : typeof value}`}`,
    );
  return time;
}

export function parseVex(text: string, source: string): VexDocument {
  let doc: unknown;
  try {
    // A byte order mark is dropped, as every other JSON document waybill reads drops it.
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new WaybillError('MALFORMED', source, `not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  checkedDepth(doc, source);
  if (!isObject(doc) || !String(doc['@context'] ?? '').includes('openvex')) {
    throw new WaybillError('MALFORMED', source, 'not an OpenVEX document (no openvex @context)');
  }
  if (!Array.isArray(doc.statements))
    throw new WaybillError('MALFORMED', source, 'an OpenVEX document needs statements');
  const documentTime = timeOf(doc.timestamp, source, '');
  const statements = doc.statements.map((s, i): VexStatement => {
    const at = `statements[${i}]`;
    if (!isObject(s)) throw new WaybillError('MALFORMED', source, `${at}: not an object`);
    const v = s.vulnerability;
    const name = typeof v === 'string' ? v : isObject(v) ? (str(v.name) ?? str(v['@id'])) : undefined;
    if (!name) throw new WaybillError('MALFORMED', source, `${at}: no vulnerability name`);
    const status = s.status as VexStatus;
    if (!STATUSES.has(status))
      throw new WaybillError('MALFORMED', source, `${at}: unknown status ${JSON.stringify(s.status)}`);
    if (!Array.isArray(s.products) || s.products.length === 0)
      throw new WaybillError('MALFORMED', source, `${at}: no products`);
    const products = s.products.map((p) => ({
      ids: productIds(p),
      subcomponents: isObject(p) && Array.isArray(p.subcomponents) ? p.subcomponents.flatMap(productIds) : [],
    }));
    const out: VexStatement = {
      vulnerability: name,
      vulnerabilityAliases:
        isObject(v) && Array.isArray(v.aliases)
          ? v.aliases.filter((a): a is string => typeof a === 'string')
          : [],
      products,
      status,
    };
    if (str(s.justification)) out.justification = s.justification as string;
    if (str(s.impact_statement)) out.impactStatement = s.impact_statement as string;
    if (str(s.action_statement)) out.actionStatement = s.action_statement as string;
    const time = timeOf(s.timestamp, source, `${at}: `) ?? documentTime;
    if (time !== undefined) out.time = time;
    return out;
  });
  return {
    source,
    statements,
    ...(str(doc['@id']) ? { id: doc['@id'] as string } : {}),
    ...(str(doc.author) ? { author: doc.author as string } : {}),
  };
}

/** A purl without qualifiers and subpath, and without its version. */
function purlKeys(id: string): { full: string; versioned?: string; bare?: string } {
  try {
    const p = PackageURL.fromString(id);
    const bare = new PackageURL(p.type, p.namespace, p.name, undefined, undefined, undefined).toString();
    const versioned = p.version
      ? new PackageURL(p.type, p.namespace, p.name, p.version, undefined, undefined).toString()
      : undefined;
    return { full: id, bare, ...(versioned ? { versioned } : {}) };
  } catch {
    return { full: id };
  }
}

/** Whether a product id names this component: same purl, or same package with the id's version or none. */
function namesComponent(id: string, purl: string): boolean {
  if (id === purl) return true;
  const a = purlKeys(id);
  const b = purlKeys(purl);
  if (!a.bare || !b.bare || a.bare !== b.bare) return false;
  return a.versioned === undefined || a.versioned === b.versioned;
}

/** Whether a product id names the audited artifact (its digest, bare or inside a purl). */
function namesSubject(id: string, digest: string | undefined): boolean {
  if (!digest) return false;
  const hex = digest.replace(/^sha256:/, '');
  return id === digest || id === hex || decodeURIComponent(id).includes(digest);
}

function statementApplies(s: VexStatement, finding: Finding, subjectDigest: string | undefined): boolean {
  const ids = new Set([finding.id, ...finding.aliases]);
  if (!ids.has(s.vulnerability) && !s.vulnerabilityAliases.some((a) => ids.has(a))) return false;
  return s.products.some((p) => {
    if (p.ids.some((id) => namesComponent(id, finding.component.purl))) return true;
    if (!p.ids.some((id) => namesSubject(id, subjectDigest))) return false;
    return (
      p.subcomponents.length === 0 || p.subcomponents.some((id) => namesComponent(id, finding.component.purl))
    );
  });
}

/** Whether any statement of the document is about this artifact or one of these components. */
export function vexConcerns(doc: VexDocument, subjectDigest: string | undefined, purls: string[]): boolean {
  return doc.statements.some((s) =>
    s.products.some(
      (p) =>
        p.ids.some((id) => namesSubject(id, subjectDigest)) ||
        p.ids.some((id) => purls.some((purl) => namesComponent(id, purl))),
    ),
  );
}

/**
 * The statement that decides a finding: the newest applicable one across documents; where either
 * time is unknown, or both are equal, the later in the order given.
 */
export function vexVerdict(
  docs: VexDocument[],
  finding: Finding,
  subjectDigest: string | undefined,
): VexVerdict | undefined {
  let verdict: VexVerdict | undefined;
  let decidedAt: number | undefined;
  for (const doc of docs) {
    for (const s of doc.statements) {
      if (!statementApplies(s, finding, subjectDigest)) continue;
      if (verdict && s.time !== undefined && decidedAt !== undefined && s.time < decidedAt) continue;
      decidedAt = s.time;
      verdict = { source: doc.source, status: s.status };
      if (s.justification) verdict.justification = s.justification;
      if (s.impactStatement) verdict.impactStatement = s.impactStatement;
      if (s.actionStatement) verdict.actionStatement = s.actionStatement;
    }
  }
  return verdict;
}
