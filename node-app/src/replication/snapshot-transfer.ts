/**
 * Snapshots between a room's admin and a follower: when a follower needs entries the admin has
 * compacted away (its next index is at or below the admin's snapshot), the admin sends its
 * snapshot and the room's state at its commit index instead (a `k:"s"` item in `swarmchat_repl`,
 * ours only); the follower installs it atomically (storage/room-snapshots.ts) and receives the
 * entries after the snapshot as ordinary appends. Those up to the installed commit index are
 * stored, not applied again ("refill"); when they are all in, the room's copy is refreshed (its
 * recent history) and the follower counts as caught up. Fencing is the append's.
 */
import type { AppliedEntry } from '../storage/room-log-store';
import type { Engine } from './engine';
import type { RoomState } from './room-state';
import type { AppendResult, SnapshotItem } from './wire';

export class SnapshotTransfer {
  constructor(private readonly e: Engine) {}

  /** Admin: the snapshot item for a follower whose next entries are compacted here. */
  itemFor(rt: RoomState): SnapshotItem {
    this.e.stats.snapshotsSent++;
    return { k: 's', room: rt.id, term: rt.term, snapshot: this.e.store.snapshots.build(rt.id) };
  }

  /**
   * Follower: installs the admin's snapshot (inside the caller's transaction) unless it has that
   * much committed already; either way its log now matches the admin's up to the snapshot's last
   * index, which is what the answer says. The room's copy is rebuilt from the store through an
   * `applied` stand-in flagged `snapshot`, in order with the entries applied around it.
   */
  install(rt: RoomState, from: string, it: SnapshotItem, now: number, applied: [RoomState, AppliedEntry[]][]): AppendResult {
    const e = this.e;
    if (!e.follower.acceptAdmin(rt, from, it.term, now)) return { ok: false, term: rt.term, match: 0, conflict: 0 };
    const snap = it.snapshot;
    if (e.store.snapshots.install(rt.id, snap)) {
      e.reloadRoom(rt);
      rt.deleted = snap.info?.deleted ?? false;
      rt.refillTo = rt.lastIndex < rt.commitIndex ? rt.commitIndex : 0;
      e.stats.snapshotsInstalled++;
      this.refreshCopy(rt, applied);
      e.log?.info('replication: installed snapshot', { room_id: rt.id, last_index: snap.lastIndex, applied_index: snap.appliedIndex, admin: from });
    }
    return { ok: true, term: rt.term, match: Math.min(snap.lastIndex, rt.lastIndex), conflict: 0 };
  }

  /** Follower, after each append: once the entries up to an installed snapshot's commit index are in, refresh the room's copy. */
  afterAppend(rt: RoomState, result: AppendResult, applied: [RoomState, AppliedEntry[]][]): AppendResult {
    if (rt.refillTo > 0 && rt.lastIndex >= rt.refillTo) {
      rt.refillTo = 0;
      this.refreshCopy(rt, applied);
    }
    return result;
  }

  private refreshCopy(rt: RoomState, applied: [RoomState, AppliedEntry[]][]): void {
    const entry = { idx: rt.commitIndex, term: this.e.store.termAt(rt.id, rt.snapIndex) ?? 0, kind: 'noop' as const, data: {} };
    applied.push([rt, [{ roomId: rt.id, entry, changed: true, snapshot: true }]]);
  }
}
