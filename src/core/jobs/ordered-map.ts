/**
 * Runs `fn` over items with bounded concurrency and yields the results in
 * input order, so a restore can fetch and decrypt ahead while still writing
 * each file front to back.
 */
export async function* orderedMap<T, R>(items: Iterable<T>, concurrency: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const it = items[Symbol.iterator]();
  const window: Promise<R>[] = [];
  const fill = () => {
    while (window.length < concurrency) {
      const n = it.next();
      if (n.done) return;
      const p = fn(n.value);
      p.catch(() => undefined); // surfaced when awaited below, in order
      window.push(p);
    }
  };
  fill();
  try {
    while (window.length > 0) {
      const r = await window.shift()!;
      fill();
      yield r;
    }
  } finally {
    // drain what is still running so nothing outlives the consumer
    await Promise.allSettled(window);
  }
}
