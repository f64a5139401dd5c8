/**
 * Running a command the way the benchmark measures it: wall time, CPU time (user + system) and peak
 * resident set size, from GNU time (`/usr/bin/time -f`), else wall time and VmHWM polled from /proc.
 * The machine is shared, so CPU time is kept next to wall time: it shows work done, not waiting.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  seconds: number;
  /** User + system CPU seconds, when GNU time is there. */
  cpuSeconds?: number;
  /** Peak resident set size in MiB. */
  rssMiB?: number;
  code: number;
  stderr: string;
  stdout: string;
}

const HAS_GNU_TIME = existsSync('/usr/bin/time');

/** Runs a command with stdin closed; stdout kept only when `keepStdout` (else discarded). */
export async function measure(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; keepStdout?: boolean } = {},
): Promise<Measured> {
  const scratch = await mkdtemp(join(tmpdir(), 'waybill-bench-'));
  const timeFile = join(scratch, 'time');
  const [file, argv] = HAS_GNU_TIME
    ? ['/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args]]
    : [cmd, args];
  const started = process.hrtime.bigint();
  const result = await new Promise<{ code: number; stderr: string; stdout: string; vmHwmKiB?: number }>(
    (resolve, reject) => {
      const child = spawn(file, argv, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['ignore', opts.keepStdout ? 'pipe' : 'ignore', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-4000);
      });
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        stdout = (stdout + d).slice(-65536);
      });
      let vmHwmKiB: number | undefined;
      const poll = HAS_GNU_TIME
        ? undefined
        : setInterval(() => {
            try {
              const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
              if (m) vmHwmKiB = Math.max(vmHwmKiB ?? 0, Number(m[1]));
            } catch {}
          }, 20);
      child.on('error', reject);
      child.on('close', (code) => {
        if (poll) clearInterval(poll);
        resolve({ code: code ?? -1, stderr, stdout, vmHwmKiB });
      });
    },
  );
  let seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let cpuSeconds: number | undefined;
  let rssKiB = result.vmHwmKiB;
  if (HAS_GNU_TIME) {
    const last = (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(last);
    if (m) {
      seconds = Number(m[1]);
      cpuSeconds = Number(m[2]) + Number(m[3]);
      rssKiB = Number(m[4]);
    }
  }
  await rm(scratch, { recursive: true, force: true });
  return {
    seconds,
    code: result.code,
    stderr: result.stderr,
    stdout: result.stdout,
    ...(cpuSeconds !== undefined ? { cpuSeconds } : {}),
    ...(rssKiB !== undefined ? { rssMiB: rssKiB / 1024 } : {}),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
