/**
 * The module graph of src/ has no import cycles, so every module can be read (and loaded) after what
 * it depends on: in formats/, each kind's reader, stamper and parsers, the helpers in formats/shared/
 * and the top-level interfaces (facts.ts, native.ts) and registry.ts form a tree of imports.
 *
 * The graph comes from the import statements themselves (static, `export … from`, and dynamic
 * `import('./x.ts')`), type-only imports included: a type cycle is still a layering knot.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = dirname(new URL(import.meta.url).pathname);

/**
 * Cycles tolerated for now, each entirely inside one folder, by the folder's path under src/:
 * catalog/ has engine.ts → worker-filter.ts → engine.ts (and registry.ts ↔ engine.ts). Any other
 * cycle, or one reaching outside its folder, fails.
 */
const TOLERATED_INSIDE = ['catalog'];

/** Leading JSDoc / line comments only: string literals may hold `/*` (globs), so no general stripping. */
const COMMENT = /^\s*\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm;
const SPECIFIER =
  /^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Relative imports of one source file, resolved to absolute paths. */
function relativeImports(file: string, text: string): string[] {
  const deps = new Set<string>();
  for (const m of text.replace(COMMENT, '').matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec?.startsWith('.')) deps.add(resolve(dirname(file), spec));
  }
  return [...deps];
}

function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const name of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.ts')) continue;
    const file = join(root, name);
    graph.set(file, relativeImports(file, readFileSync(file, 'utf8')));
  }
  return graph;
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('the cycle finder sees direct, long and dynamic-import cycles, and nothing in a tree', () => {
  const file = (name: string) => `/r/${name}.ts`;
  const imports = (name: string, text: string): [string, string[]] => [
    file(name),
    relativeImports(file(name), text),
  ];
  const graph = new Map([
    imports('a', "import { b } from './b.ts';"),
    imports(
      'b',
      "/** import('./x.ts') in a comment is not an edge */\nexport const f = () => import('./a.ts');",
    ),
    imports('c', "import type {\n  D,\n} from './d.ts';"),
    imports('d', "export * from './e.ts';"),
    imports('e', "import './c.ts';"),
    imports('leaf', "import { a } from './a.ts';\nimport { readFile } from 'node:fs';"),
  ]);
  assert.deepEqual(cycles(graph), [
    [file('a'), file('b')],
    [file('c'), file('d'), file('e')],
  ]);
  graph.set(file('e'), []);
  graph.set(file('b'), []);
  assert.deepEqual(cycles(graph), []);
});

test('no import cycles in src/ (formats/ has none at all)', () => {
  const graph = importGraph(SRC);
  assert.ok(graph.size > 100, `read ${graph.size} modules under ${SRC}`);
  const offending = cycles(graph)
    .map((component) => component.map((f) => relative(SRC, f)))
    .filter((component) => {
      const folders = new Set(component.map((f) => dirname(f)));
      return !(folders.size === 1 && TOLERATED_INSIDE.includes([...folders][0]!));
    });
  assert.deepEqual(offending, [], `import cycles:\n${offending.map((c) => c.join(' ↔ ')).join('\n')}`);
});
