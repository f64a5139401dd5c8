/**
 * A program that records every time it runs: planted in hostile repository configs (filter drivers,
 * gpg.program, fsmonitor, hooks…), it proves that nothing named by the repository ran. It passes its
 * input through (`cat`), so as a clean/smudge filter it would "work" and hide itself.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Tripwire {
  /** Absolute path of the executable to plant. */
  program: string;
  /** Whether it has run since the last reset, and how (its argv, one line per run). */
  ran(): Promise<string | null>;
  reset(): Promise<void>;
}

export async function makeTripwire(dir: string, name = 'tripwire'): Promise<Tripwire> {
  const program = path.join(dir, `${name}.sh`);
  const log = path.join(dir, `${name}.log`);
  await writeFile(program, `#!/bin/sh\necho "$0 $*" >> '${log}'\ncat\n`, { mode: 0o755 });
  return {
    program,
    ran: async () => (existsSync(log) ? readFile(log, 'utf8') : null),
    reset: () => rm(log, { force: true }),
  };
}
