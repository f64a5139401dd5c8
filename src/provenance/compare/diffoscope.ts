/**
 * Hands a published/rebuilt pair to Debian's diffoscope (https://diffoscope.org) when it is installed:
 * the program is looked up on the user's own PATH by its fixed name and run with a fixed argument
 * list (nothing from the kit or the artifact names a program or an option). Its text report is kept.
 * Exit status 0 means no differences, 1 differences, anything else an error.
 */
import { execFile } from 'node:child_process';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { absolutePath, whichProgram } from '../build/tools.ts';

export type DiffoscopeOutcome =
  | { status: 'missing' }
  | { status: 'same' | 'different'; report: string }
  | { status: 'error'; message: string; report?: string };

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

export async function runDiffoscope(
  published: string,
  rebuilt: string,
  reportPath: string,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<DiffoscopeOutcome> {
  const env = options.env ?? process.env;
  const program = await whichProgram('diffoscope', absolutePath(env.PATH));
  if (!program) return { status: 'missing' };
  return new Promise((resolve) => {
    execFile(
      program,
      ['--no-progress', '--text', '-', '--', published, rebuilt],
      {
        env: { ...env },
        encoding: 'buffer',
        maxBuffer: MAX_REPORT_BYTES,
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        void (async () => {
          if (code === 0 || code === 1) {
            await writeFileAtomic(reportPath, stdout.length > 0 ? stdout : Buffer.from('no differences\n'));
            resolve({ status: code === 0 ? 'same' : 'different', report: reportPath });
            return;
          }
          const message =
            stderr.toString('utf8').trim().split('\n').at(-1) || error?.message || `exit status ${code}`;
          if (stdout.length > 0) {
            await writeFileAtomic(reportPath, stdout);
            resolve({ status: 'error', message, report: reportPath });
          } else resolve({ status: 'error', message });
        })().catch((e: unknown) => resolve({ status: 'error', message: (e as Error).message }));
      },
    );
  });
}
