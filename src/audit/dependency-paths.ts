/**
 * Dependency paths: how the artifact pulls a component in. A breadth-first walk of the SBOM's
 * dependency graph from its roots gives every reachable component one shortest path (ties broken by
 * the order of the graph's sorted edges, so the same SBOM gives the same paths). Components the graph
 * does not reach get no path; a flat graph (the subject depending on everything) gives
 * `subject → component`.
 */
import type { Inventory } from './inventory.ts';

export type PathFinder = (ref: string) => string[] | undefined;

/** A function from a component's ref to the labels (`name@version`) on its path, root first. */
export function dependencyPaths(inventory: Inventory): PathFinder {
  const label = new Map<string, string>();
  if (inventory.subject) {
    const s = inventory.subject;
    label.set(s.ref, s.version ? `${s.name}@${s.version}` : s.name);
  }
  for (const c of inventory.components) label.set(c.ref, c.version ? `${c.name}@${c.version}` : c.name);
  const parent = new Map<string, string | null>();
  const queue: string[] = [];
  for (const root of inventory.roots) {
    if (!parent.has(root)) {
      parent.set(root, null);
      queue.push(root);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as string;
    const next = [...(inventory.edges.get(node) ?? [])].sort();
    for (const n of next) {
      if (parent.has(n)) continue;
      parent.set(n, node);
      queue.push(n);
    }
  }
  return (ref) => {
    if (!parent.has(ref)) return undefined;
    const path: string[] = [];
    for (let at: string | null | undefined = ref; at != null; at = parent.get(at))
      path.push(label.get(at) ?? at);
    return path.reverse();
  };
}
