/**
 * The URL of a module in the caller's folder, with the caller's own extension: `.ts` when waybill
 * runs from source (Node's type stripping), `.js` in the published package, which is compiled
 * because Node refuses to strip types under node_modules. Worker entry points and worker filter
 * modules are loaded by URL, which the compiler's rewriting of relative imports does not reach.
 */
export function siblingModule(callerUrl: string, name: string): URL {
  const extension = new URL(callerUrl).pathname.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, callerUrl);
}
