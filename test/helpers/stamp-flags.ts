/**
 * The `stamp` flags of a complete release (`hello 1.2.3` by a named team, with help, license and a
 * signed source), shared by the end-to-end tests that need an artifact passing all seven rules.
 */
export function helloStampFlags(repo: string, allowedSignersFile: string): string[] {
  return [
    '--name',
    'hello',
    '--version',
    '1.2.3',
    '--team',
    'Example Release Team',
    '--contact',
    'release@example.org',
    '--bug-tracker',
    'https://bugs.example.org/hello',
    '--license',
    'Apache-2.0',
    '--source',
    repo,
    '--allowed-signers',
    allowedSignersFile,
    '--quiet',
  ];
}
