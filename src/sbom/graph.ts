/**
 * The dependency graph both SBOM writers encode: each component's resolved dependencies, each carrier
 * → the copies vendored inside it, and the artifact → its top-level components only — those nothing
 * else in the artifact depends on or carries. Components that only sit in dependency cycles (dpkg's
 * libc6 ↔ libgcc-s1 with nothing above them) would be unreachable that way, so the first of each
 * such group, in key order, becomes top-level too: every component is reachable from the artifact.
 */
import { type Component, componentKey } from '../catalog/types.ts';
import { byString } from './subject.ts';

export interface SbomGraph {
  /** Keys of the components the artifact itself depends on, sorted. */
  topLevel: string[];
  /** key → keys it depends on (dependencies and vendored copies), sorted; every key present. */
  edges: Map<string, string[]>;
}

export function dependencyGraph(components: readonly Component[]): SbomGraph {
  const keys = [...new Set(components.map(componentKey))].sort(byString);
  const known = new Set(keys);
  const edges = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
  for (const c of components) {
    const key = componentKey(c);
    for (const d of c.dependsOn ?? []) if (known.has(d) && d !== key) edges.get(key)!.add(d);
    if (c.vendoredIn !== undefined && known.has(c.vendoredIn)) edges.get(c.vendoredIn)!.add(key);
  }
  const incoming = new Set<string>();
  for (const targets of edges.values()) for (const t of targets) incoming.add(t);
  const topLevel = keys.filter((k) => !incoming.has(k));
  const reached = new Set<string>();
  const visit = (start: string) => {
    const stack = [start];
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (reached.has(k)) continue;
      reached.add(k);
      for (const t of edges.get(k) ?? []) if (!reached.has(t)) stack.push(t);
    }
  };
  for (const k of topLevel) visit(k);
  for (const k of keys) {
    if (reached.has(k)) continue;
    topLevel.push(k);
    visit(k);
  }
  return {
    topLevel: topLevel.sort(byString),
    edges: new Map([...edges].map(([k, v]) => [k, [...v].sort(byString)])),
  };
}
