/**
 * Log compaction on every node, each on its own log: a tick (every COMPACT_EVERY_MS) visits a
 * few rooms in turn, asks the store how far the retention policy lets the room's committed log
 * go (storage/room-snapshots.ts `retentionPoint`) and compacts towards it in bounded steps, so a
 * long log is worked off over several ticks without holding the event loop. A follower that then
 * needs compacted entries gets a snapshot (snapshot-transfer.ts).
 */
import type { RetentionPolicy } from '../storage/room-snapshots';
import type { Engine } from './engine';

export const COMPACT_EVERY_MS = 1000;
/** Rooms whose retention one tick checks. */
const ROOMS_PER_TICK = 32;
/** Entries one step deletes (one transaction). */
const STEP_ENTRIES = 512;
/** Entries one tick deletes in all. */
const ENTRIES_PER_TICK = 2048;

/** No limit: the log is kept whole (compaction off). */
export const KEEP_EVERYTHING: RetentionPolicy = { messages: 0, days: 0, minAgeMs: 0 };

export class Compactor {
  private cursor = 0;

  constructor(private readonly e: Engine, private readonly policy: RetentionPolicy, private readonly wallNow: () => number) {}

  get enabled(): boolean {
    return this.policy.messages > 0 || this.policy.days > 0;
  }

  tick(): void {
    const e = this.e;
    if (!this.enabled || e.stopped || e.rooms.size === 0) return;
    const rooms = [...e.rooms.values()];
    const now = this.wallNow();
    let budget = ENTRIES_PER_TICK;
    let visited = 0;
    while (visited < Math.min(rooms.length, ROOMS_PER_TICK) && budget > 0) {
      const rt = rooms[(this.cursor + visited) % rooms.length];
      visited++;
      if (rt.deleted) continue;
      const point = e.store.snapshots.retentionPoint(rt.id, this.policy, now);
      if (point <= rt.snapIndex) continue;
      const reached = e.store.snapshots.compact(rt.id, point, Math.min(STEP_ENTRIES, budget));
      budget -= reached - rt.snapIndex;
      e.stats.compactedEntries += reached - rt.snapIndex;
      rt.snapIndex = reached;
    }
    this.cursor = (this.cursor + visited) % rooms.length;
  }
}
