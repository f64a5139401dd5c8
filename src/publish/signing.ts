/**
 * What `publish` signs: the publication statement, and every statement going out with the artifact
 * that no bundle going out with it signs yet (the record, provenance, an audit). "Signed" means a
 * bundle or DSSE envelope whose payload is the same statement (compared as canonical JSON, so key
 * order does not matter); whether that signature verifies is `verify`'s question, not this one.
 */
import type { SerializedBundle } from '@sigstore/bundle';
import { serializeBundle, signStatement } from '../sign/sign-statement.ts';
import { parseSignedText, type SignedItem } from '../sign/signed-input.ts';
import type { Signer } from '../sign/signer.ts';
import { type StatementKind, statementKindOf } from '../sign/statement.ts';
import { canonicalJson } from '../util/canonical-json.ts';

/** The in-toto payload of a signed item, or undefined (a message signature, an invalid bundle). */
function payloadOf(item: SignedItem): Buffer | undefined {
  if (item.kind === 'envelope') return item.envelope.payload;
  if (item.kind === 'bundle' && item.bundle.content.$case === 'dsseEnvelope')
    return Buffer.from(item.bundle.content.dsseEnvelope.payload);
  return undefined;
}

/** Canonical JSON of every statement the given bundle files sign. Unreadable files sign nothing. */
export function signedStatements(files: Array<{ bytes: Buffer; source: string }>): Set<string> {
  const signed = new Set<string>();
  for (const file of files) {
    let items: SignedItem[];
    try {
      items = parseSignedText(file.bytes.toString('utf8'), file.source);
    } catch {
      continue;
    }
    for (const item of items) {
      const payload = payloadOf(item);
      if (!payload) continue;
      try {
        signed.add(canonicalJson(JSON.parse(payload.toString('utf8'))));
      } catch {
        // Not JSON: signs no statement of ours.
      }
    }
  }
  return signed;
}

export interface UnsignedStatement {
  statement: Record<string, unknown>;
  /** Where it is, for messages. */
  source: string;
}

export interface NewBundle {
  kind: StatementKind;
  predicateType: string;
  source: string;
  bundle: SerializedBundle;
  json: string;
}

/** The statements of `statements` no bundle in `signed` covers (each once). */
export function unsigned(statements: UnsignedStatement[], signed: Set<string>): UnsignedStatement[] {
  const seen = new Set<string>();
  return statements.filter((s) => {
    const key = canonicalJson(s.statement);
    if (signed.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Signs each statement with `signer` (DSSE in a Sigstore bundle v0.3, src/sign). */
export async function signAll(statements: UnsignedStatement[], signer: Signer): Promise<NewBundle[]> {
  const out: NewBundle[] = [];
  for (const s of statements) {
    const predicateType = String(s.statement.predicateType);
    const bundle = await signStatement(s.statement, signer);
    out.push({
      kind: statementKindOf(predicateType),
      predicateType,
      source: s.source,
      bundle,
      json: serializeBundle(bundle),
    });
  }
  return out;
}
