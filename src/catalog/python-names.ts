/** PEP 503 normalized name: runs of `-`, `_`, `.` become one `-`, lower-cased. */
export function normalizePythonName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
