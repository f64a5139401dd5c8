/**
 * Folders inside an installed package that hold no bundled code: test suites and their fixtures,
 * examples, docs and benchmarks ship throwaway manifests (`fixtures/broken-pkg/package.json`,
 * setuptools' `pkg_resources/tests/data/…/EGG-INFO/PKG-INFO`), and a hidden folder (`.cache`,
 * `.pnpm`) is not a package's code. Metadata found under one is not a vendored copy.
 */
const NOT_BUNDLED_FOLDER =
  /^(?:tests?|__tests__|spec|specs|__mocks__|fixtures?|__fixtures__|test-fixtures|examples?|demos?|docs?|benchmarks?|bench|samples?|templates?|\..*)$/i;

export function isNotBundledFolder(name: string): boolean {
  return NOT_BUNDLED_FOLDER.test(name);
}
