/**
 * Maps a partition key to a partition. The service uses its own hash; what matters locally is
 * the property publishers rely on: the same key always lands on the same partition (across
 * calls, processes and restarts), so events of one key stay in order. FNV-1a over the key's
 * UTF-8 bytes is stable, cheap and spreads short ids well.
 */

export function hashPartitionKey(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function partitionForKey(key: string, partitionCount: number): number {
  return hashPartitionKey(key) % partitionCount;
}
