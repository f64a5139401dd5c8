/**
 * The environment a recipe runs with. Nothing is inherited except PATH (with relative entries
 * dropped, so a program in the source tree cannot shadow a system one by accident) and the variables
 * the recipe's `env` allow-list names. HOME and TMPDIR point inside the private build root, and the
 * reproducible-builds variables are fixed: SOURCE_DATE_EPOCH is the tagged commit's time, TZ=UTC,
 * LC_ALL=C.
 *
 * `recorded` is what the provenance and the rebuild kit keep: everything except PATH, HOME and TMPDIR,
 * which name places on the builder's machine, not inputs of the build.
 */
import type { BuildRecipe } from './recipe.ts';
import { absolutePath } from './tools.ts';

export interface RecipeEnvironment {
  /** The complete environment given to every command. */
  run: Record<string, string>;
  /** The inputs among it, as recorded in the provenance and the kit. */
  recorded: Record<string, string>;
}

export interface ScratchPlaces {
  home: string;
  tmp: string;
  sourceDateEpoch: number;
}

function assemble(
  recorded: Record<string, string>,
  path: string | undefined,
  places: ScratchPlaces,
): RecipeEnvironment {
  return {
    run: { ...recorded, PATH: absolutePath(path), HOME: places.home, TMPDIR: places.tmp },
    recorded,
  };
}

/** For `build`: the allow-listed variables take the builder's values (unset ones are left out). */
export function recipeEnvironment(
  recipe: BuildRecipe,
  from: NodeJS.ProcessEnv,
  places: ScratchPlaces,
): RecipeEnvironment {
  const recorded: Record<string, string> = {
    LC_ALL: 'C',
    SOURCE_DATE_EPOCH: String(places.sourceDateEpoch),
    TZ: 'UTC',
  };
  for (const name of [...recipe.env].sort()) {
    const value = from[name];
    if (value !== undefined) recorded[name] = value;
  }
  return assemble(recorded, from.PATH, places);
}

/** For `rebuild`: the kit's recorded values, with the rebuilder's own PATH (a kit never names where programs are). */
export function rebuildEnvironment(
  recorded: Readonly<Record<string, string>>,
  from: NodeJS.ProcessEnv,
  places: ScratchPlaces,
): RecipeEnvironment {
  return assemble(
    { ...recorded, SOURCE_DATE_EPOCH: String(places.sourceDateEpoch), TZ: 'UTC', LC_ALL: 'C' },
    from.PATH,
    places,
  );
}
