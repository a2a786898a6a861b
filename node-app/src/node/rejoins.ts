/**
 * Re-joins of live members wrongly removed: the admin removed a member of this node as "Node
 * unreachable" while its connection here is alive (this node was slow, frozen or cut off, not
 * dead). The member joins again at once and stays registered meanwhile, so it misses no committed
 * message and its sends wait for the re-join instead of being refused. One re-join at a time per member.
 */
import type { Room } from '../rooms/room';
import { pythonIsoNow } from '../util/time';
import type { NodeContext } from './node-context';
import { errText } from './wire-converters';

const rejoinKey = (roomId: string, username: string): string => `${roomId}\0${username}`;

export class Rejoins {
  /** room_id \0 username -> re-join in progress. */
  private readonly inProgress = new Map<string, Promise<boolean>>();

  constructor(private readonly ctx: NodeContext) {}

  running(roomId: string, username: string): boolean {
    return this.inProgress.has(rejoinKey(roomId, username));
  }

  /** The re-join in progress for this member, if any (a send waits for it). */
  pending(roomId: string, username: string): Promise<boolean> | undefined {
    return this.inProgress.get(rejoinKey(roomId, username));
  }

  /** Starts a re-join when a committed member_left removed a live member of this node. True when one runs. */
  rejoinIfLive(room: Room, username: string, nodeId: string, reason: string | undefined): boolean {
    if (reason !== 'Node unreachable' || nodeId !== this.ctx.selfId || this.ctx.shuttingDown) return false;
    if (this.inProgress.has(rejoinKey(room.roomId, username))) return true;
    const live = [...this.ctx.registry.sessions(room.roomId)].some((s) => !s.closed && s.rooms.get(room.roomId)?.username === username);
    if (!live || room.members.has(username)) return false;
    void this.rejoin(room, username);
    return true;
  }

  /** Joins a member of a live connection here again; one at a time per member. */
  rejoin(room: Room, username: string): Promise<boolean> {
    const key = rejoinKey(room.roomId, username);
    const running = this.inProgress.get(key);
    if (running) return running;
    const { log, publisher, delivery, selfId } = this.ctx;
    log.warn('member removed as unreachable while connected here; joining again', { room_id: room.roomId, username });
    const done = publisher
      .appendAndPublish(room, { kind: 'member_joined', username, nodeId: selfId, timestamp: pythonIsoNow() })
      .then(() => true, (err) => {
        log.warn('re-join failed; the member leaves', { room_id: room.roomId, username, err: errText(err) });
        delivery.evict(room.roomId, username);
        return false;
      })
      .finally(() => this.inProgress.delete(key));
    this.inProgress.set(key, done);
    this.ctx.track(done);
    return done;
  }
}
