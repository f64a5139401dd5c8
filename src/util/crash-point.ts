/**
 * Named points inside multi-step writes (stamp's commit), where the crash tests stop the real CLI:
 * `WAYBILL_TEST_CRASH_AT=NAME` kills the process with SIGKILL there (what kill -9 or a power cut
 * does: no cleanup, no finally blocks), and `WAYBILL_TEST_PAUSE_AT=NAME` makes it wait there (holding
 * its lock) until a test kills it. Unset, a point costs one environment lookup. Test-only: nothing
 * else reads these variables.
 */
export async function crashPoint(name: string): Promise<void> {
  if (process.env.WAYBILL_TEST_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
  if (process.env.WAYBILL_TEST_PAUSE_AT === name) {
    // A timer keeps the event loop (and so the process) alive; 2^31-1 ms is the longest one.
    for (;;) await new Promise((resolve) => setTimeout(resolve, 2 ** 31 - 1));
  }
}
