/**
 * Rooms administered elsewhere, as this node sees them: the admin-location cache (room_id -> admin
 * node, §9.10: not rediscovered per operation), discovery across the peers (get_hosted_rooms), and
 * for each remote room a connection here is in (or joining) a short window of its recent messages,
 * which closes the race between a remote join's reply and the broadcasts that follow it and lets a
 * forwarded send wait for its own echo.
 */
import type { ChatMessage, RoomSummary } from '../protocol/messages';
import type { XmlRpcValue } from '../peers/xmlrpc-codec';
import type { NodeContext } from './node-context';
import { isStruct, type Struct } from '../peers/rpc-params';
import { errText, toRoomSummary } from './wire-converters';

interface RemoteRoomView {
  adminNode: string;
  lastSeq: number;
  /** Recent messages received for the room, oldest first, for replay to a connection that just joined. */
  recent: ChatMessage[];
  waiters: Array<{ seq: number; resolve: () => void }>;
}

export type AdminLookup = { nodeId: string; cached: boolean } | undefined;

/** What an admin's reply about one of its rooms means to the caller. */
export type AdminReply =
  | { kind: 'ok'; reply: Struct }
  /** The admin came from the cache and no longer has the room: ask discovery and try once more. */
  | { kind: 'retry' }
  | { kind: 'refused'; error: string; code: string };

export interface DiscoveryResult {
  rooms: RoomSummary[];
  queried: string[];
  available: string[];
  unavailable: string[];
}

export class RemoteRooms {
  private readonly views = new Map<string, RemoteRoomView>();
  private readonly adminCache = new Map<string, string>();
  private readonly pendingJoins = new Map<string, number>();
  private discoveryInFlight: Promise<DiscoveryResult> | undefined;

  constructor(private readonly ctx: NodeContext) {}

  /** Where the room's admin is believed to be (cache, then a view), without asking anyone. */
  knownAdmin(roomId: string): string | undefined {
    return this.adminCache.get(roomId) ?? this.views.get(roomId)?.adminNode;
  }

  /** The admin did not answer or no longer has the room: the next lookup asks the peers again. */
  forgetAdmin(roomId: string): void {
    this.adminCache.delete(roomId);
  }

  /** The room is gone (deleted): its view and cache entry too. */
  forgetRoom(roomId: string): void {
    this.views.delete(roomId);
    this.adminCache.delete(roomId);
  }

  /** Asks every peer in parallel, each bounded by the discovery timeout; partial results are results. */
  discover(): Promise<DiscoveryResult> {
    if (this.discoveryInFlight) return this.discoveryInFlight;
    const { peers, cfg, log } = this.ctx;
    const run = (async (): Promise<DiscoveryResult> => {
      const out: DiscoveryResult = { rooms: [], queried: [], available: [], unavailable: [] };
      const found = new Map<string, string>();
      await Promise.all(
        peers.peerIds().map(async (peer) => {
          try {
            const r = await peers.call(peer, 'get_hosted_rooms', [], cfg.discoveryTimeoutMs);
            out.queried.push(peer);
            out.available.push(peer);
            if (!Array.isArray(r)) return;
            for (const item of r) {
              const s = toRoomSummary(item);
              if (!s) continue;
              out.rooms.push(s);
              found.set(s.room_id, s.admin_node);
              if (s.node_address) peers.learn(s.admin_node, s.node_address);
            }
          } catch (err) {
            out.queried.push(peer);
            out.unavailable.push(peer);
            log.debug('discovery: peer unavailable', { peer, err: errText(err) });
          }
        }),
      );
      // A complete answer replaces the cache (rooms deleted elsewhere drop out); a partial one adds.
      if (out.unavailable.length === 0) this.adminCache.clear();
      for (const [roomId, admin] of found) this.adminCache.set(roomId, admin);
      return out;
    })();
    this.discoveryInFlight = run;
    void run.finally(() => {
      if (this.discoveryInFlight === run) this.discoveryInFlight = undefined;
    });
    return run;
  }

  /** The room's admin: from the cache unless `fresh`, else by discovery. */
  async resolveAdmin(roomId: string, fresh: boolean): Promise<AdminLookup> {
    const selfId = this.ctx.selfId;
    if (!fresh) {
      const cached = this.adminCache.get(roomId);
      if (cached && cached !== selfId) return { nodeId: cached, cached: true };
    }
    await this.discover();
    const admin = this.adminCache.get(roomId);
    return admin && admin !== selfId ? { nodeId: admin, cached: false } : undefined;
  }

  /**
   * Reads an admin's reply (join_room, forward_message): a refusal keeps the admin's text (its
   * `textKey` field) and code; ROOM_NOT_FOUND also drops the cache entry, and when that entry was
   * what led here, the first attempt is worth repeating after discovery.
   */
  readReply(roomId: string, admin: { cached: boolean }, attempt: number, result: XmlRpcValue, textKey: 'message' | 'error', fallback: string): AdminReply {
    if (!isStruct(result)) return { kind: 'refused', error: 'Administrator node sent an invalid reply', code: 'ADMIN_NODE_UNAVAILABLE' };
    if (result.success === true) return { kind: 'ok', reply: result };
    const code = typeof result.error_code === 'string' ? result.error_code : 'UNKNOWN_ERROR';
    if (code === 'ROOM_NOT_FOUND') {
      this.forgetAdmin(roomId);
      if (admin.cached && attempt === 0) return { kind: 'retry' };
    }
    const text = result[textKey];
    return { kind: 'refused', error: typeof text === 'string' ? text : fallback, code };
  }

  /** A join of the room is under way here: its view stays while it runs. */
  beginJoin(roomId: string): void {
    this.pendingJoins.set(roomId, (this.pendingJoins.get(roomId) ?? 0) + 1);
  }

  endJoin(roomId: string): void {
    const n = (this.pendingJoins.get(roomId) ?? 1) - 1;
    if (n > 0) this.pendingJoins.set(roomId, n);
    else this.pendingJoins.delete(roomId);
    this.releaseView(roomId);
  }

  ensureView(roomId: string, adminNode: string): RemoteRoomView {
    let v = this.views.get(roomId);
    if (!v) this.views.set(roomId, (v = { adminNode, lastSeq: 0, recent: [], waiters: [] }));
    v.adminNode = adminNode;
    return v;
  }

  /** Forgets a remote room's view once no connection here is in it or joining it (bounded memory). */
  releaseView(roomId: string): void {
    if (this.ctx.registry.hasRoom(roomId) || this.pendingJoins.has(roomId)) return;
    const v = this.views.get(roomId);
    if (!v) return;
    for (const w of v.waiters) w.resolve();
    this.views.delete(roomId);
  }

  /** Resolves once our copy of the room's broadcasts reached `seq` (bounded by ECHO_WAIT_MS). */
  waitForSeq(roomId: string, seq: number): Promise<void> {
    const v = this.views.get(roomId);
    if (!v || v.lastSeq >= seq || this.ctx.cfg.echoWaitMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        v.waiters = v.waiters.filter((w) => w !== waiter);
        resolve();
      }, this.ctx.cfg.echoWaitMs);
      const waiter = { seq, resolve: () => { clearTimeout(timer); resolve(); } };
      v.waiters.push(waiter);
    });
  }

  /** A broadcast message of a remote room arrived: remember it in the window and wake the waiters it satisfies. */
  noteMessage(roomId: string, msg: ChatMessage): void {
    let v = this.views.get(roomId);
    if (!v && (this.ctx.registry.hasRoom(roomId) || this.pendingJoins.has(roomId))) v = this.ensureView(roomId, this.adminCache.get(roomId) ?? '');
    if (!v || msg.sequence_number <= v.lastSeq) return;
    v.lastSeq = msg.sequence_number;
    v.recent.push(msg);
    // Trimmed in bulk, not per message: the window only has to hold at least `keep` messages.
    const keep = Math.max(this.ctx.cfg.historyLimit, 256);
    if (v.recent.length > keep * 2) v.recent.splice(0, v.recent.length - keep);
    if (v.waiters.length) {
      const due = v.waiters.filter((w) => w.seq <= msg.sequence_number);
      v.waiters = v.waiters.filter((w) => w.seq > msg.sequence_number);
      for (const w of due) w.resolve();
    }
  }
}
