/**
 * Runs `fn` over `items` at most `size` at a time, in groups in list order, and resolves with the
 * results in that order. Every call of a group settles before the next group starts or an error
 * is thrown (the first rejection of the group), so nothing is left running unobserved.
 */
export async function inGroups<T, R> (items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += size) {
    const results = await Promise.allSettled(items.slice(i, i + size).map(fn))
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason
      out.push(r.value)
    }
  }
  return out
}
