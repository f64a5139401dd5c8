/**
 * Support statements (guideline 7) may offer support only on behalf of the releasing team. This finds
 * who a statement says provides support — "supported by X", "support is provided by X", "X provides
 * support" — and reports every X that is not the team ("commercially supported by Example Corp",
 * "supported by the OpenStack Foundation"). Community wording is caught separately by the community
 * matcher; this adds the organisations and companies it cannot know about.
 */

import { type Token, tokenize } from './community-wording.ts';

export interface SupportClaim {
  /** The statement's words naming the supporter, as written. */
  quote: string;
  /** Who the statement says supports it. */
  supporter: string;
}

/** Words that refer to the releasing team itself without naming it: "supported by us", "by its maintainers". */
const SELF_WORDS = new Set(
  'the us we our ourselves this these its their team teams release maintainers maintainer authors author packagers packager'.split(
    ' ',
  ),
);
/** Legal-form suffixes: "Acme Inc." is the team "Acme". */
const ORG_SUFFIXES = new Set('inc ltd llc gmbh corp co company corporation limited sa ag bv plc'.split(' '));
/** Words that end the supporter's name when reading forward ("supported by Acme for five years"). */
const FORWARD_STOPS = new Set(
  'for under until till through via with on at in during per as if when who which that while from to is are will'.split(
    ' ',
  ),
);
/** Words that start the supporter's name when reading backward ("… and then Acme provides support"). */
const BACKWARD_STOPS = new Set('that which who where if when then while and but so because'.split(' '));
const SUPPORT_ADJECTIVES = new Set(
  'commercial paid professional enterprise full long term long-term extended best effort best-effort security'.split(
    ' ',
  ),
);
const MAX_NAME = 8;

function words(text: string): string[] {
  return tokenize(text).tokens.map((t) => t.word);
}

function isTeamName(name: string[], team: ReadonlySet<string>): boolean {
  // "and"/"or" join several supporters: each must be the team.
  const groups: string[][] = [[]];
  for (const w of name) {
    if (w === 'and' || w === 'or' || w === 'nor') groups.push([]);
    else groups[groups.length - 1]!.push(w);
  }
  return groups.every((g) => g.every((w) => SELF_WORDS.has(w) || ORG_SUFFIXES.has(w) || team.has(w)));
}

/** Forward name after index `i`: up to a boundary or a stop word. */
function nameAfter(tokens: Token[], i: number): [number, number] {
  let e = i;
  while (
    e < tokens.length &&
    e - i < MAX_NAME &&
    !tokens[e]!.boundaryBefore &&
    !FORWARD_STOPS.has(tokens[e]!.word)
  )
    e++;
  return [i, e];
}

/** Backward name ending before index `i`: back to a boundary or a stop word. */
function nameBefore(tokens: Token[], i: number): [number, number] {
  let s = i;
  while (s > 0 && i - s < MAX_NAME && !tokens[s]!.boundaryBefore && !BACKWARD_STOPS.has(tokens[s - 1]!.word))
    s--;
  if (s < i && BACKWARD_STOPS.has(tokens[s]!.word)) s++;
  return [s, i];
}

/**
 * Supporters a statement names that are not the team. `teamName` null means the team is unknown:
 * then any named supporter other than "us"/"the team" is reported.
 */
export function findForeignSupportClaims(statement: string, teamName: string | null): SupportClaim[] {
  const { text, tokens } = tokenize(statement);
  const team = new Set(teamName ? words(teamName) : []);
  const claims: SupportClaim[] = [];
  const seen = new Set<string>();
  const report = (s: number, e: number, quoteFrom: number, quoteTo: number) => {
    const name = tokens.slice(s, e).map((t) => t.word);
    if (name.length === 0 || isTeamName(name, team)) return;
    const key = `${s}:${e}`;
    if (seen.has(key)) return;
    seen.add(key);
    claims.push({
      quote: text.slice(tokens[quoteFrom]!.start, tokens[quoteTo - 1]!.end),
      supporter: text.slice(tokens[s]!.start, tokens[e - 1]!.end),
    });
  };
  const at = (i: number) => tokens[i]?.word;
  const joined = (i: number) => tokens[i] !== undefined && !tokens[i]!.boundaryBefore;
  for (let i = 0; i < tokens.length; i++) {
    const w = at(i);
    // "supported by X", "support (is) provided/offered/given by X", "support by X".
    if ((w === 'supported' || w === 'support') && joined(i + 1)) {
      let j = i + 1;
      if (w === 'support') {
        if (at(j) === 'is' || at(j) === 'are') j++;
        if (['provided', 'offered', 'given', 'available'].includes(at(j) ?? '')) j++;
        if (at(j) === 'from' || at(j) === 'through') j++;
        else if (at(j) === 'by') j++;
        else continue;
      } else if (at(j) === 'by') j++;
      else continue;
      if (!joined(j)) continue;
      const [s, e] = nameAfter(tokens, j);
      report(s, e, i, e);
    }
    // "X provides support", "X offers commercial support", "X supports this release".
    if (['provides', 'provide', 'offers', 'offer', 'gives', 'give', 'sells', 'sell'].includes(w ?? '')) {
      let j = i + 1;
      while (joined(j) && SUPPORT_ADJECTIVES.has(at(j) ?? '')) j++;
      if (!(joined(j) && (at(j) === 'support' || at(j) === 'supports'))) continue;
      const [s, e] = nameBefore(tokens, i);
      report(s, e, s, j + 1);
    }
    if (w === 'supports' && i > 0) {
      const [s, e] = nameBefore(tokens, i);
      report(s, e, s, i + 1);
    }
  }
  return claims;
}
