/**
 * Community wording: does a piece of release metadata say or imply that a whole community (rather
 * than a named team) produced, owns or supports the artifact? Guideline 5 asks the producing team to
 * name itself; "the OpenStack community" in a vendor field says the opposite.
 *
 * Text is normalized (NFKC, lower case) and cut into word tokens. Hyphens, underscores, dots and
 * apostrophes inside a word split it into tokens of one "chunk" (`community-supported` → community,
 * supported), so spelling variants match the same phrase. A match must cover whole chunks: an
 * identifier such as `openstack-community-release-tools` never matches `community release` partway
 * through. URLs, paths and e-mail addresses are blanked out first (`https://example.org/community/`
 * names a place, not a producer), and no match spans sentence punctuation.
 *
 * Phrase syntax (defaults below; `policy.communityPhrases` uses the same):
 *   word         a word; `a|b|c` any of these words; `[word]` or `[a|b]` optional
 *   <X>          1–3 words naming something (not function words like "the", "for"); `[<X>]` 0–3
 *   ...  or  …   a gap of 0–4 words
 *   !a|b         the next word (if any) must not be one of these
 *   ^  $         start / end of the whole field
 * A plain phrase such as `Acme Collective` or `community-run` is tokenized like the text.
 */

import { WaybillError } from '../errors.ts';

export interface Token {
  /** Lower-cased word. */
  word: string;
  /** Offsets into the NFKC-normalized text (for quoting). */
  start: number;
  end: number;
  /** True when sentence punctuation, a blanked URL or a paragraph break precedes this token. */
  boundaryBefore: boolean;
  firstInChunk: boolean;
  lastInChunk: boolean;
}

export interface Tokenized {
  text: string;
  tokens: Token[];
}

/** Characters between words that end a phrase: a match never spans them. */
const BOUNDARY_GAP = /[.,;:!?|()[\]{}<>–—=•·]|\n\s*\n/;
/** A word: letters/digits, joined by single in-word joiners (hyphens, underscore, dot, apostrophe). */
const CHUNK = /[\p{L}\p{N}]+(?:[-‐‑_.'’][\p{L}\p{N}]+)*/gu;
const JOINER = /[-‐‑_.'’]/u;
/** Whitespace-delimited pieces that are locations, not prose: URLs, paths, e-mail addresses. */
const LOCATION_PIECE = /\S*(?:\/|@|:\/\/)\S*/gu;

/** Caps the work per field: metadata fields are short, and a hostile description must stay cheap. */
const MAX_TEXT_CHARS = 100_000;

export function tokenize(input: string): Tokenized {
  const text = String(input).slice(0, MAX_TEXT_CHARS).normalize('NFKC');
  // Blank out locations but keep offsets: replace them with a boundary mark and spaces.
  const blanked = text.replace(LOCATION_PIECE, (piece) =>
    piece.length ? '|' + ' '.repeat(piece.length - 1) : '',
  );
  const tokens: Token[] = [];
  let previousEnd = 0;
  for (const m of blanked.matchAll(CHUNK)) {
    const chunkStart = m.index ?? 0;
    const chunk = m[0];
    const boundary = tokens.length > 0 && BOUNDARY_GAP.test(blanked.slice(previousEnd, chunkStart));
    // Split the chunk at its joiners; a possessive `'s` becomes a chunk of its own so that
    // "the OpenStack community's official" still covers "community" as a whole chunk.
    const parts: { word: string; start: number; end: number; sep: string }[] = [];
    let pos = 0;
    let sep = '';
    while (pos < chunk.length) {
      let end = pos;
      while (end < chunk.length && !JOINER.test(chunk[end] ?? '')) end++;
      parts.push({ word: chunk.slice(pos, end), start: chunkStart + pos, end: chunkStart + end, sep });
      sep = chunk[end] ?? '';
      pos = end + 1;
    }
    const last = parts[parts.length - 1];
    const possessive = parts.length > 1 && last && /^s$/i.test(last.word) && /['’]/.test(last.sep);
    const groups = possessive ? [parts.slice(0, -1), parts.slice(-1)] : [parts];
    groups.forEach((group, g) => {
      group.forEach((part, i) => {
        tokens.push({
          word: part.word.toLowerCase(),
          start: part.start,
          end: part.end,
          boundaryBefore: g === 0 && i === 0 ? boundary : false,
          firstInChunk: i === 0,
          lastInChunk: i === group.length - 1,
        });
      });
    });
    previousEnd = chunkStart + chunk.length;
  }
  return { text, tokens };
}

type Element =
  | { kind: 'word'; words: ReadonlySet<string>; optional: boolean }
  | { kind: 'slot'; min: number; max: number }
  | { kind: 'gap'; max: number }
  | { kind: 'not'; words: ReadonlySet<string> }
  | { kind: 'start' }
  | { kind: 'end' };

export interface CompiledPhrase {
  source: string;
  elements: Element[];
}

/** Words that cannot stand for the <X> in "the <X> community": they join phrases, they do not name. */
const FUNCTION_WORDS = new Set(
  (
    'a an the and or nor but of to for in on at by with from as into onto via per ' +
    'is are was were be been being it its this that these those our your their my his her ' +
    'see please not no who which what when where how'
  ).split(' '),
);

const SLOT_MAX = 3;
const GAP_MAX = 4;

function phraseError(phrase: string, reason: string): WaybillError {
  return new WaybillError('CONFIG', 'communityPhrases', `phrase ${JSON.stringify(phrase)}: ${reason}`);
}

function singleWords(phrase: string, alternatives: string): Set<string> {
  const words = new Set<string>();
  for (const alt of alternatives.split('|')) {
    const toks = tokenize(alt).tokens;
    if (toks.length !== 1) {
      throw phraseError(phrase, `alternative ${JSON.stringify(alt)} must be exactly one word`);
    }
    words.add(toks[0]!.word);
  }
  return words;
}

/** Compiles one phrase of the syntax described at the top of this file; CONFIG error when malformed. */
export function compilePhrase(phrase: string): CompiledPhrase {
  if (typeof phrase !== 'string' || phrase.trim() === '') throw phraseError(String(phrase), 'is empty');
  const pieces = phrase.trim().split(/\s+/);
  const elements: Element[] = [];
  pieces.forEach((piece, i) => {
    if (piece === '^') {
      if (i !== 0) throw phraseError(phrase, '^ must come first');
      elements.push({ kind: 'start' });
    } else if (piece === '$') {
      if (i !== pieces.length - 1) throw phraseError(phrase, '$ must come last');
      elements.push({ kind: 'end' });
    } else if (piece === '<X>') {
      elements.push({ kind: 'slot', min: 1, max: SLOT_MAX });
    } else if (piece === '[<X>]') {
      elements.push({ kind: 'slot', min: 0, max: SLOT_MAX });
    } else if (piece === '...' || piece === '…') {
      elements.push({ kind: 'gap', max: GAP_MAX });
    } else if (piece.startsWith('!')) {
      elements.push({ kind: 'not', words: singleWords(phrase, piece.slice(1)) });
    } else if (piece.startsWith('[') && piece.endsWith(']')) {
      elements.push({ kind: 'word', words: singleWords(phrase, piece.slice(1, -1)), optional: true });
    } else if (piece.includes('|')) {
      elements.push({ kind: 'word', words: singleWords(phrase, piece), optional: false });
    } else {
      // A plain piece: tokenized like text, so `community-run` becomes two words.
      const toks = tokenize(piece).tokens;
      if (toks.length === 0) throw phraseError(phrase, `${JSON.stringify(piece)} has no words`);
      for (const t of toks) elements.push({ kind: 'word', words: new Set([t.word]), optional: false });
    }
  });
  if (!elements.some((e) => e.kind === 'word' && !e.optional)) {
    throw phraseError(phrase, 'needs at least one required word');
  }
  return { source: phrase, elements };
}

/** Matches `elements[e…]` from token `ti`; returns the end token index or -1. */
function matchFrom(phrase: CompiledPhrase, tokens: Token[], first: number, e: number, ti: number): number {
  const { elements } = phrase;
  // A token after the first must not sit across a sentence boundary.
  const joins = (j: number) => j === first || !tokens[j]!.boundaryBefore;
  if (e === elements.length) {
    // Whole chunks only: the match must end at the end of a chunk.
    return ti > first && tokens[ti - 1]!.lastInChunk ? ti : -1;
  }
  const el = elements[e]!;
  switch (el.kind) {
    case 'start':
      return ti === 0 ? matchFrom(phrase, tokens, first, e + 1, ti) : -1;
    case 'end':
      return ti === tokens.length ? matchFrom(phrase, tokens, first, e + 1, ti) : -1;
    case 'not': {
      const next = tokens[ti];
      if (next && joins(ti) && el.words.has(next.word)) return -1;
      return matchFrom(phrase, tokens, first, e + 1, ti);
    }
    case 'word': {
      const tok = tokens[ti];
      if (tok && joins(ti) && el.words.has(tok.word)) {
        const r = matchFrom(phrase, tokens, first, e + 1, ti + 1);
        if (r >= 0) return r;
      }
      return el.optional ? matchFrom(phrase, tokens, first, e + 1, ti) : -1;
    }
    case 'slot':
    case 'gap': {
      const min = el.kind === 'slot' ? el.min : 0;
      // Longest first, so a quote shows the whole name ("the Open Infrastructure community").
      let k = 0;
      while (k < el.max && ti + k < tokens.length && joins(ti + k)) {
        if (el.kind === 'slot' && FUNCTION_WORDS.has(tokens[ti + k]!.word)) break;
        k++;
      }
      for (; k >= min; k--) {
        const r = matchFrom(phrase, tokens, first, e + 1, ti + k);
        if (r >= 0) return r;
      }
      return -1;
    }
  }
}

export interface WordingMatch {
  /** The matched words as written (after NFKC normalization). */
  quote: string;
  /** The phrase of the model that matched. */
  phrase: string;
  start: number;
  end: number;
}

export interface CommunityMatcher {
  readonly phrases: readonly CompiledPhrase[];
  find(text: string): WordingMatch[];
}

/** Words after "the <X> community" that make it a place to go, not a producer: "the OpenStack community wiki". */
const RESOURCE_NOUNS =
  'wiki|wikis|forum|forums|chat|chats|channel|channels|irc|slack|discord|matrix|discourse|mailing|list|lists|' +
  'meeting|meetings|event|events|calendar|call|calls|guidelines|guide|handbook|docs|documentation|page|pages|' +
  'site|website|portal|resources|hub|code|standards|norms|q|questions|answers|team|teams|manager|managers|edition|editions';

const MAKE_PARTICIPLES =
  'produced|built|made|developed|created|released|published|packaged|maintained|owned|run|backed|supported|' +
  'provided|distributed|curated|sponsored|funded|operated|managed';
const MAKE_VERBS =
  'produces|builds|makes|develops|creates|releases|publishes|packages|maintains|owns|runs|backs|supports|' +
  'provides|distributes|curates|offers|operates|manages|ships';
const ARTIFACT_NOUNS =
  'release|releases|build|builds|image|images|package|packages|distribution|distributions|artifact|artifacts|' +
  'binary|binaries|container|containers';

/**
 * The default phrase model. Each entry says why it is there; see docs/policy.md for the decisions on
 * the borderline cases (community edition, Community Team, "by the X project", community wiki).
 */
export const DEFAULT_COMMUNITY_PHRASES: readonly string[] = [
  // Naming the community itself: "the OpenStack community", "the wider Python communities".
  // Not when it names a place to go ("the OpenStack community wiki"), a team, or a product tier.
  `the <X> community|communities !${RESOURCE_NOUNS}`,
  // A field that is nothing but a community: vendor "OpenStack Community", authors "The Community".
  '^ [the] [<X>] community|communities $',
  '^ [the] [<X>] community contributors|developers|members|volunteers|maintainers $',
  // "produced by the community", "maintained by the OpenStack community", "built by community volunteers".
  `${MAKE_PARTICIPLES} by [the] [<X>] community|communities`,
  'brought to you by [the] [<X>] community|communities',
  // "community-supported", "community supported", "community-maintained", "community-driven".
  `community ${MAKE_PARTICIPLES}|driven|led|governed|powered`,
  // "the community provides support", "the community maintains this image".
  `community|communities ${MAKE_VERBS}|provide|produce|build|maintain|support|offer`,
  'on behalf of [the] [<X>] community|communities',
  // "the community's official image", "the OpenStack community's release".
  `community|communities s official|own|${ARTIFACT_NOUNS}`,
  // "official OpenStack community release", "an official community build".
  `official ... community ${ARTIFACT_NOUNS}`,
  // "community release", "community builds": a release or build presented as the community's.
  'community release|releases|build|builds|binaries|distribution|distributions',
];

export interface PhraseOptions {
  add?: string[];
  replace?: string[];
}

export function createCommunityMatcher(options: PhraseOptions = {}): CommunityMatcher {
  const base = options.replace ?? DEFAULT_COMMUNITY_PHRASES;
  const phrases = [...base, ...(options.add ?? [])].map(compilePhrase);
  return {
    phrases,
    find(text: string): WordingMatch[] {
      const { text: normalized, tokens } = tokenize(text);
      const spans: { s: number; e: number; phrase: string }[] = [];
      for (const phrase of phrases) {
        for (let i = 0; i < tokens.length; i++) {
          if (!tokens[i]!.firstInChunk) continue;
          const end = matchFrom(phrase, tokens, i, 0, i);
          if (end > i) spans.push({ s: i, e: end, phrase: phrase.source });
        }
      }
      // Overlapping matches are one claim: merge them, keeping the first phrase that matched.
      spans.sort((a, b) => a.s - b.s || b.e - a.e);
      const merged: typeof spans = [];
      for (const span of spans) {
        const last = merged[merged.length - 1];
        if (last && span.s < last.e) last.e = Math.max(last.e, span.e);
        else merged.push({ ...span });
      }
      return merged.map(({ s, e, phrase }) => {
        const start = tokens[s]!.start;
        const end = tokens[e - 1]!.end;
        return { quote: normalized.slice(start, end), phrase, start, end };
      });
    },
  };
}

let defaultMatcher: CommunityMatcher | undefined;

/** Convenience for callers with no policy overrides. */
export function findCommunityWording(text: string): WordingMatch[] {
  defaultMatcher ??= createCommunityMatcher();
  return defaultMatcher.find(text);
}
