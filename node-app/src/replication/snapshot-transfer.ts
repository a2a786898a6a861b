/**
 * Snapshots between a room's admin and a follower: when a follower needs entries the admin has
 * compacted away (its next index is at or below the admin's snapshot), the admin sends the room's
 * state at its commit index instead (a `k:"s"` item in `swarmchat_repl`, ours only), and the
 * follower installs it atomically (storage/room-snapshots.ts) and continues with the entries after
 * it. Fencing is the append's: a snapshot from a stale term is refused.
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
      e.stats.snapshotsInstalled++;
      applied.push([rt, [{
        roomId: rt.id, entry: { idx: snap.lastIndex, term: snap.lastTerm, kind: 'noop', data: {} }, changed: true,
        memberCount: snap.members.length, snapshot: true,
      }]]);
      e.log?.info('replication: installed snapshot', { room_id: rt.id, last_index: snap.lastIndex, last_seq: snap.lastSeq, admin: from });
    }
    if (!rt.caughtUp) {
      rt.caughtUp = true;
      e.log?.info('replication: caught up', { room_id: rt.id, commit_index: rt.commitIndex, admin: from });
    }
    return { ok: true, term: rt.term, match: snap.lastIndex, conflict: 0 };
  }
}
