/**
 * Runs `work` over `items`, at most `limit` at a time. After a failure no new item starts, and the
 * first error is thrown once the running ones have settled, so nothing is left running (writing,
 * uploading) behind the caller's back.
 */
export async function eachLimited<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
}
