/**
 * The engine's combined file filter, rebuilt inside a layer worker thread. Functions cannot cross
 * threads, so the engine sends what identifies its filter — the registry names of its catalogers,
 * in its order, and whether os-release files are wanted — and each worker imports this module and
 * calls `engineFilter(arg)`. The filter is `combinedFilter` itself over the same registry
 * catalogers, so the walk keeps exactly what the in-process walk would.
 */
import { WaybillError } from '../errors.ts';
import type { FileFilter } from '../sources/types.ts';
import type { FilterModuleSpec } from '../sources/walk-options.ts';
import { siblingModule } from '../util/sibling-module.ts';
import { combinedFilter } from './engine.ts';
import { defaultCatalogers } from './registry.ts';
import type { Cataloger } from './types.ts';

/** What a worker needs to rebuild the filter: structured-cloneable. */
export interface EngineFilterArg {
  catalogers: string[];
  osRelease: boolean;
}

/** The export name `loadFilterModule` calls. */
export const ENGINE_FILTER_EXPORT = 'engineFilter';

export function engineFilter(arg: unknown): FileFilter {
  const { catalogers, osRelease } = (arg ?? {}) as Partial<EngineFilterArg>;
  if (!Array.isArray(catalogers) || typeof osRelease !== 'boolean') {
    throw new WaybillError(
      'USAGE',
      'worker filter',
      'argument is not { catalogers: string[], osRelease: boolean }',
    );
  }
  const registry = defaultCatalogers();
  const chosen = catalogers.map((name) => {
    const found = registry.find((c) => c.name === name);
    if (!found) throw new WaybillError('USAGE', String(name), 'no cataloger of this name in the registry');
    return found;
  });
  return combinedFilter(chosen, osRelease);
}

/**
 * The module spec for a walk on worker threads, or undefined when the catalogers cannot be rebuilt
 * there: a cataloger that is not the registry's own object (a test double, a caller's custom one)
 * exists only in this thread, so that walk stays in-process.
 */
export function engineFilterModule(
  catalogers: readonly Cataloger[],
  osRelease: boolean,
): FilterModuleSpec | undefined {
  const registry = defaultCatalogers();
  if (!catalogers.every((c) => registry.find((r) => r.name === c.name) === c)) return undefined;
  return {
    url: siblingModule(import.meta.url, 'worker-filter').href,
    export: ENGINE_FILTER_EXPORT,
    arg: { catalogers: catalogers.map((c) => c.name), osRelease } satisfies EngineFilterArg,
  };
}
