/**
 * SPDX license expressions (SPDX spec annex D): parse with spdx-expression-parse, decide whether a
 * policy's allowed list permits an expression, and compare two expressions for equivalence.
 */

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type SpdxNode =
  | { license: string; plus?: boolean; exception?: string }
  | { left: SpdxNode; conjunction: 'and' | 'or'; right: SpdxNode };

const parseSpdx = require('spdx-expression-parse') as (text: string) => SpdxNode;
const LICENSE_IDS: string[] = [
  ...(require('spdx-license-ids') as string[]),
  ...(require('spdx-license-ids/deprecated.json') as string[]),
];
// Exception ids (spdx-exceptions) are not re-cased: that package is not a direct dependency.
const CANONICAL_ID = new Map(LICENSE_IDS.map((id) => [id.toLowerCase(), id]));

/**
 * Parses an SPDX expression. Identifiers are matched case-insensitively (SPDX spec annex D.2: "License
 * identifiers… should be matched in a case-insensitive manner"), so `mit` is read as `MIT`.
 * LicenseRef-… and DocumentRef-…:LicenseRef-… are valid user-defined identifiers.
 */
export function parseLicenseExpression(text: string): SpdxNode | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > 10_000) return undefined;
  try {
    return parseSpdx(trimmed);
  } catch {
    // Retry with identifiers in their canonical case; operators may be any case already.
    const recased = trimmed.replace(/[A-Za-z0-9.-]+/g, (word) => {
      if (/^(and|or|with)$/i.test(word)) return word.toUpperCase();
      return CANONICAL_ID.get(word.toLowerCase()) ?? word;
    });
    try {
      return parseSpdx(recased);
    } catch {
      return undefined;
    }
  }
}

/** Canonical text of an expression: operands of AND/OR sorted, so `MIT AND Apache-2.0` = `Apache-2.0 AND MIT`. */
export function canonicalExpression(node: SpdxNode): string {
  if ('license' in node) {
    return `${node.license}${node.plus ? '+' : ''}${node.exception ? ` WITH ${node.exception}` : ''}`;
  }
  const operands: string[] = [];
  const collect = (n: SpdxNode): void => {
    if ('conjunction' in n && n.conjunction === node.conjunction) {
      collect(n.left);
      collect(n.right);
    } else operands.push('conjunction' in n ? `(${canonicalExpression(n)})` : canonicalExpression(n));
  };
  collect(node);
  return [...new Set(operands)].sort().join(node.conjunction === 'and' ? ' AND ' : ' OR ');
}

export function sameLicense(a: SpdxNode, b: SpdxNode): boolean {
  return canonicalExpression(a).toLowerCase() === canonicalExpression(b).toLowerCase();
}

/** The identifiers a single license term may be granted under, for matching against the allowed list. */
function acceptableNames(leaf: { license: string; plus?: boolean; exception?: string }): string[] {
  const names = [leaf.license];
  // "X or any later version" lets the user choose X itself, so an allowed X (or X-only) satisfies it.
  const orLater = /^(.*)-or-later$/.exec(leaf.license);
  const base = orLater?.[1] ?? (leaf.plus ? leaf.license : undefined);
  if (base !== undefined) names.push(base, `${base}-only`, `${base}+`, `${base}-or-later`);
  if (leaf.exception) {
    // An exception adds permissions to the license; a policy may also list the combination itself.
    return [...names.map((n) => `${n} WITH ${leaf.exception}`), ...names];
  }
  return names;
}

export interface AllowedVerdict {
  allowed: boolean;
  /** One line saying why: which branch satisfies the policy, or which licenses are not allowed. */
  explanation: string;
}

/**
 * Whether the policy permits an expression: every operand of an AND must be allowed; at least one
 * branch of an OR must be (the licensee may pick that branch).
 */
export function evaluateAllowed(node: SpdxNode, allowedList: readonly string[]): AllowedVerdict {
  const allowed = new Set(allowedList.map((a) => a.trim().toLowerCase()));
  const leafOk = (leaf: { license: string; plus?: boolean; exception?: string }): boolean =>
    acceptableNames(leaf).some((n) => allowed.has(n.toLowerCase()));

  // The cheapest satisfiable choice: a list of leaves that together are allowed, or undefined.
  const satisfy = (n: SpdxNode): string[] | undefined => {
    if ('license' in n) return leafOk(n) ? [canonicalExpression(n)] : undefined;
    const l = satisfy(n.left);
    const r = satisfy(n.right);
    if (n.conjunction === 'and') return l && r ? [...l, ...r] : undefined;
    return l ?? r;
  };
  type Leaf = { license: string; plus?: boolean; exception?: string };
  const leaves: Leaf[] = [];
  const walk = (n: SpdxNode): void => {
    if ('license' in n) leaves.push(n);
    else {
      walk(n.left);
      walk(n.right);
    }
  };
  walk(node);
  const allowedText = allowedList.length ? allowedList.join(', ') : 'none';
  const chosen = satisfy(node);
  const hasOr = JSON.stringify(node).includes('"conjunction":"or"');
  if (chosen) {
    const explanation = hasOr
      ? `the licensee may choose ${chosen.join(' AND ')}, which the policy allows (${allowedText})`
      : `every license in it is allowed (${allowedText})`;
    return { allowed: true, explanation };
  }
  const notAllowed = [...new Set(leaves.filter((leaf) => !leafOk(leaf)).map(canonicalExpression))];
  const list = `${notAllowed.join(', ')} ${notAllowed.length === 1 ? 'is' : 'are'} not allowed`;
  const why = hasOr
    ? `no choice the OR offers is allowed as a whole (${list})`
    : `${list}, and an AND needs every license allowed`;
  return { allowed: false, explanation: `${why}; allowed: ${allowedText}` };
}
