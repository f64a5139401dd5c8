/**
 * rpm boolean ("rich") dependencies, rpm 4.13+: a Requires such as `(foo or bar)`, `(a if b else c)`,
 * `(pkgA with pkgB)`, nested in parentheses (rpm.org "Boolean Dependencies"). REQUIRENAME stores the
 * whole expression as one string. For the dependency graph, the capabilities an expression may be
 * satisfied by are the names it requires: every operand of `and`, `or`, `with`; the required side of
 * `if`/`unless` and their `else` side, never the condition; the left of `without`. Versions are
 * dropped, as for plain Requires (the graph links what is installed, it does not check versions).
 */

const OPERATORS = new Set(['and', 'or', 'if', 'unless', 'else', 'with', 'without']);
/** Nesting deeper than this is not a dependency anyone wrote; the expression is left alone. */
const MAX_DEPTH = 32;

type Token = '(' | ')' | string;

/**
 * Splits on spaces and on the expression's parentheses. A capability may hold balanced parentheses of
 * its own (`perl(Foo::Bar)`, `libc.so.6()(64bit)`): a `(` that starts a token opens a group, one inside
 * a name is part of it, and a `)` closes the name's own before it closes a group (as rpm's parser reads).
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') i++;
    else if (c === '(' || c === ')') {
      tokens.push(c);
      i++;
    } else {
      let j = i;
      let inner = 0;
      while (j < text.length && text[j] !== ' ' && text[j] !== '\t') {
        if (text[j] === '(') inner++;
        else if (text[j] === ')') {
          if (inner === 0) break;
          inner--;
        }
        j++;
      }
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/**
 * The capability names a rich dependency may be satisfied by, or undefined when `text` is not one
 * (a plain capability) or is malformed (unbalanced parentheses, a missing operand).
 */
export function richDependencyNames(text: string): string[] | undefined {
  if (!text.startsWith('(')) return undefined;
  const tokens = tokenize(text);
  let at = 0;
  // One operand: a nested expression, or a capability `name [op version]` (the name is kept).
  const operand = (depth: number): string[] | undefined => {
    const t = tokens[at];
    if (t === undefined || t === ')' || OPERATORS.has(t)) return undefined;
    if (t === '(') return group(depth + 1);
    at++;
    // `name >= 1.0`: skip the comparison and its version.
    if (/^[<>=]+$/.test(tokens[at] ?? '')) at += 2;
    return [t];
  };
  const group = (depth: number): string[] | undefined => {
    if (depth > MAX_DEPTH || tokens[at] !== '(') return undefined;
    at++;
    const first = operand(depth);
    if (!first) return undefined;
    const names = [...first];
    let op: string | undefined;
    while (tokens[at] !== ')') {
      const next = tokens[at];
      if (next === undefined || !OPERATORS.has(next)) return undefined;
      at++;
      const rhs = operand(depth);
      if (!rhs) return undefined;
      // `A if B` / `A unless B`: B is the condition; `A if B else C`: C is required otherwise.
      if (next === 'if' || next === 'unless' || next === 'without') {
        op = next;
        continue;
      }
      if (next === 'else' && op !== 'if' && op !== 'unless') return undefined;
      op = next;
      names.push(...rhs);
    }
    at++;
    return names;
  };
  const names = group(1);
  if (!names || at !== tokens.length) return undefined;
  return [...new Set(names)];
}
