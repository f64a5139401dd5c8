/**
 * The committer date of HEAD, read from the commit object itself (`git cat-file commit`) through the
 * hardened runner. Not `git log`: log honours `log.showSignature`, which makes it run gpg.program on
 * a signed commit — a program the repository's config would choose.
 */

import { gitRunner } from './git-exec.ts';

/** HEAD's committer date, or undefined when there is no readable HEAD commit. */
export async function headCommitDate(dir: string): Promise<Date | undefined> {
  const result = await gitRunner(dir).run(['cat-file', 'commit', 'HEAD']);
  return result.code === 0 ? parseCommitterDate(result.stdout.toString('latin1')) : undefined;
}

/** `committer Name <email> 1704164645 +0100` in the header block → the instant (the zone is display only). */
export function parseCommitterDate(commitObject: string): Date | undefined {
  const headerEnd = commitObject.indexOf('\n\n');
  const headers = headerEnd === -1 ? commitObject : commitObject.slice(0, headerEnd);
  for (const line of headers.split('\n')) {
    if (!line.startsWith('committer ')) continue;
    const match = /> (\d{1,15}) [+-]\d{4}$/.exec(line);
    if (!match) return undefined;
    const date = new Date(Number(match[1]) * 1000);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}
