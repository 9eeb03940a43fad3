/**
 * Bounded read-ahead over an async iterator (tfjs-data's PrefetchIterator, in small): keeps up to
 * `depth` `next()` calls in flight, so the producer works on the following items while the consumer
 * uses the current one, and never more than `depth` items wait in memory.
 *
 * @param source - the iterable to read ahead of.
 * @param depth - items requested ahead (>= 1).
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`train.readAhead must be a positive integer, got ${depth}`);
  const it = source[Symbol.asyncIterator]();
  const queue: Array<Promise<IteratorResult<T>>> = [];
  try {
    for (;;) {
      while (queue.length < depth) queue.push(it.next());
      const r = await queue.shift()!;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // Settle what is still in flight before closing the source (errors there are moot now).
    await Promise.allSettled(queue);
    await it.return?.();
  }
}
