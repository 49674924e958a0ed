import type { IndexRecord } from '../../engine/store/root-index-format.js';

/** A well-formed index record for file `i` (distinct size, mtime, inode, hash, key and location per `i`). */
export function indexRecord(i: number, overrides: Partial<IndexRecord> = {}): IndexRecord {
  return {
    size: 100 + i,
    mtimeNs: 1_764_000_000_123_456_789n + BigInt(i) * 1_000_000_000n,
    ctimeNs: 1_764_000_001_987_654_321n,
    ino: BigInt(1000 + i),
    dev: 2049n,
    contentHash: i.toString(16).padStart(16, '0'),
    key: `key-${i}`,
    location: { pack: 'abc-1-0123456789ab.pack', offset: 16 + i * 8, length: 8 },
    lastAccessMs: 5_000 + i,
    ...overrides,
  };
}
