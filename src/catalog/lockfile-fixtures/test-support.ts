/** Shared checks for the yarn and pnpm lockfile parser tests (excluded from the build: test-support.ts). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isWaybillError } from '../../errors.ts';
import type { LockedPackage } from '../npm-flat-lock.ts';

type Parse = (text: string, path: string) => LockedPackage[];

/** Each text throws a MALFORMED WaybillError whose message matches its pattern. */
export function assertMalformed(parse: Parse, path: string, cases: Array<[string, RegExp]>): void {
  for (const [text, expected] of cases) {
    assert.throws(
      () => parse(text, path),
      (e: unknown) => isWaybillError(e) && e.code === 'MALFORMED' && expected.test(e.message),
      text,
    );
  }
}

/**
 * Property: text made of random lines and the format's own line shapes is either read into packages
 * or rejected with one MALFORMED line that starts with the file's path; nothing else is ever thrown.
 */
export function assertNeverThrowsOtherwise(parse: Parse, path: string, shapes: string[]): void {
  const lineArb = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...shapes));
  fc.assert(
    fc.property(fc.array(lineArb, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
      try {
        assert.ok(Array.isArray(parse(lines.join(eol), path)));
      } catch (e) {
        assert.ok(isWaybillError(e) && e.code === 'MALFORMED', String(e));
        assert.ok(e.message.startsWith(`${path}: `) && !e.message.includes('\n'), e.message);
      }
    }),
    { numRuns: 500 },
  );
}

const nameArb = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
  fc.stringMatching(/^@[a-z]{1,4}\/[a-z][a-z0-9.-]{0,6}$/),
);
const versionArb = fc
  .tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.constantFrom('', '-rc.1', '-beta'))
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre}`);

export interface GraphNode {
  name: string;
  version: string;
  dev: boolean;
  /** Dependency name → the version it resolves to. */
  deps: Map<string, string>;
}

/** A random set of packages (unique name@version) and edges between them. */
export const lockGraphArb = fc
  .tuple(
    fc.uniqueArray(fc.tuple(nameArb, versionArb, fc.boolean()), {
      selector: ([n, v]) => `${n}@${v}`,
      maxLength: 10,
    }),
    fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }),
  )
  .map(([pkgs, edges]): GraphNode[] => {
    const nodes = pkgs.map(([name, version, dev]) => ({
      name,
      version,
      dev,
      deps: new Map<string, string>(),
    }));
    for (const [from, to] of edges) {
      if (nodes.length === 0) break;
      const target = nodes[to % nodes.length]!;
      nodes[from % nodes.length]!.deps.set(target.name, target.version);
    }
    return nodes;
  });

/** What a parser should return for the graph: sorted by id, self-edges dropped, `fields` added. */
export function expectedLocked(
  graph: GraphNode[],
  fields: (node: GraphNode) => Pick<LockedPackage, 'dev'> & Partial<LockedPackage>,
): LockedPackage[] {
  return graph
    .map((node) => ({
      name: node.name,
      version: node.version,
      ...fields(node),
      optional: false,
      dependsOn: [...node.deps]
        .map(([d, v]) => `${d}@${v}`)
        .filter((id) => id !== `${node.name}@${node.version}`)
        .sort(),
    }))
    .sort((a, b) => (`${a.name}@${a.version}` < `${b.name}@${b.version}` ? -1 : 1));
}

/**
 * What the lockfile-fixtures project locks, name@version → its dependencies, as yarn records them
 * (yarn omits peer edges; pnpm adds react-dom → react). fsevents differs per tool and is left out.
 */
export const FIXTURE_LOCKED: Record<string, string> = {
  '@isaacs/string-locale-compare@1.1.0': '',
  'ansi-regex@5.0.1': '',
  'debug@4.3.4': 'ms@2.1.2',
  'emoji-regex@8.0.0': '',
  'is-fullwidth-code-point@3.0.0': '',
  'js-tokens@4.0.0': '',
  'loose-envify@1.4.0': 'js-tokens@4.0.0',
  'ms@2.1.2': '',
  'ms@2.1.3': '',
  'once@1.4.0': 'wrappy@1.0.2',
  'react-dom@18.2.0': 'loose-envify@1.4.0 scheduler@0.23.2',
  'react@18.2.0': 'loose-envify@1.4.0',
  'scheduler@0.23.2': 'loose-envify@1.4.0',
  // The alias string-width-cjs@npm:string-width@4.2.3 is the real string-width.
  'string-width@4.2.3': 'emoji-regex@8.0.0 is-fullwidth-code-point@3.0.0 strip-ansi@6.0.1',
  'strip-ansi@6.0.1': 'ansi-regex@5.0.1',
  'wrappy@1.0.2': '',
};
