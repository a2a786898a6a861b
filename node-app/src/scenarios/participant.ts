/**
 * A scripted chat user for the scenarios: one ChatConnection to one node, with everything it sees
 * recorded — the raw `new_message` frames (to check exactly-once, in-order delivery on the wire),
 * the ordered stream the client library shows a user, replies and their latency, member events,
 * and each time the connection was lost and regained. With `reconnect`, a lost connection is
 * reopened to the same node and the rooms rejoined (resuming after the last message shown), so a
 * rolling update can be measured from the client's side.
 */
import { ChatConnection } from '../clients/core';
import type { ChatMessage } from '../protocol/messages';
import type { NodeTarget } from './types';

export interface WireMessage {
  roomId: string;
  seq: number;
  messageId: string;
  username: string;
  content: string;
  at: number;
}

export interface SentRecord {
  roomId: string;
  content: string;
  startedAt: number;
  ackedAt?: number;
  seq?: number;
  /** Why the send failed (error code or connection state), when it did. */
  error?: string;
}

export interface Outage {
  start: number;
  /** When a new connection to the node was open again. */
  end?: number;
  /** When the rooms had been rejoined (or had failed to) after that. */
  rejoinedAt?: number;
  closeCode: number;
}

export interface MemberLeftRecord {
  roomId: string;
  username: string;
  reason?: string;
  at: number;
}

export interface ParticipantOptions {
  reconnect?: boolean;
  requestTimeoutMs?: number;
  /** Gives up reconnecting after this long (the scenario reports it). */
  reconnectTimeoutMs?: number;
  /** How long a room is retried after a reconnect while the join times out (default 30 s). */
  rejoinTimeoutMs?: number;
  log?: (line: string) => void;
}

const RECONNECT_INTERVAL_MS = 500;

export class Participant {
  readonly wire = new Map<string, WireMessage[]>();
  readonly shown = new Map<string, ChatMessage[]>();
  readonly sent: SentRecord[] = [];
  readonly memberLeft: MemberLeftRecord[] = [];
  readonly outages: Outage[] = [];
  readonly gaps: { roomId: string; from: number; to: number }[] = [];
  /** Rooms that could not be rejoined after a reconnect, with the node's answer. */
  readonly rejoinFailures: { roomId: string; at: number; error: string }[] = [];
  private conn: ChatConnection | undefined;
  private readonly rooms = new Set<string>();
  private stopped = false;
  private reconnecting: Promise<void> | undefined;

  constructor(
    readonly username: string,
    readonly node: NodeTarget,
    private readonly opts: ParticipantOptions = {},
  ) {}

  get connected(): boolean {
    return !!this.conn?.isOpen && this.reconnecting === undefined;
  }

  async connect(): Promise<void> {
    this.attach(await ChatConnection.connect(this.node.wsUrl, this.connectionOptions()));
  }

  async createRoom(roomName: string): Promise<string> {
    const created = await this.use().createRoom(roomName, this.username, `scenario room of ${this.username}`);
    return created.room_id;
  }

  async join(roomId: string): Promise<void> {
    await this.use().joinRoom(roomId, this.username);
    this.rooms.add(roomId);
  }

  /**
   * Joins, retrying while the answer is a timeout or an unavailable administrator (a node that
   * just came back may need a moment to reach its peers), until `timeoutMs` has passed. A definite
   * answer such as ROOM_NOT_FOUND ends it at once. Resolves with the attempts made.
   */
  async joinPatiently(roomId: string, timeoutMs: number, resumeAfter?: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.use().joinRoom(roomId, this.username, resumeAfter !== undefined ? { resumeAfter } : {});
        this.rooms.add(roomId);
        return attempt;
      } catch (err) {
        if (!isTransient(err) || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.use().deleteRoom(roomId, this.username);
  }

  async discoverRoomIds(): Promise<{ roomIds: string[]; unavailable: string[] }> {
    const reply = await this.use().discoverRooms();
    return { roomIds: reply.rooms.map((r) => r.room_id), unavailable: reply.nodes_unavailable ?? [] };
  }

  /** Sends one message; never throws: a failure is recorded with its reason. */
  async send(roomId: string, content: string): Promise<SentRecord> {
    const record: SentRecord = { roomId, content, startedAt: Date.now() };
    this.sent.push(record);
    if (!this.connected || !this.conn) {
      record.error = 'not connected';
      return record;
    }
    try {
      const ack = await this.conn.sendMessage(roomId, this.username, content);
      record.ackedAt = Date.now();
      record.seq = ack.sequence_number;
    } catch (err) {
      const e = err as { code?: string; name?: string; message?: string };
      record.error = e.code ?? e.name ?? String(err);
    }
    return record;
  }

  lastShownSeq(roomId: string): number | undefined {
    const list = this.shown.get(roomId);
    return list && list.length > 0 ? list[list.length - 1].sequence_number : undefined;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.reconnecting?.catch(() => undefined);
    await this.conn?.close();
  }

  private use(): ChatConnection {
    if (!this.conn || !this.conn.isOpen) throw new Error(`${this.username}: not connected to ${this.node.id}`);
    return this.conn;
  }

  private connectionOptions() {
    return { requestTimeoutMs: this.opts.requestTimeoutMs ?? 10_000, connectTimeoutMs: 2_000, pingIntervalMs: 5_000 };
  }

  private attach(conn: ChatConnection): void {
    this.conn = conn;
    conn.on('frame', (frame) => {
      if (frame.type !== 'new_message') return;
      const m = frame.data;
      const list = this.wire.get(m.room_id) ?? [];
      list.push({ roomId: m.room_id, seq: m.sequence_number, messageId: m.message_id, username: m.username, content: m.content, at: Date.now() });
      this.wire.set(m.room_id, list);
    });
    conn.on('message', (m) => {
      const list = this.shown.get(m.room_id) ?? [];
      list.push(m);
      this.shown.set(m.room_id, list);
    });
    conn.on('gap', (g) => this.gaps.push({ roomId: g.room_id, from: g.from, to: g.to }));
    conn.on('member_left', (d) => this.memberLeft.push({ roomId: d.room_id, username: d.username, reason: d.reason, at: Date.now() }));
    conn.on('error', () => undefined); // reported through 'close'
    conn.on('close', (info) => {
      if (info.expected || this.stopped || this.conn !== conn) return;
      const outage: Outage = { start: Date.now(), closeCode: info.code };
      this.outages.push(outage);
      this.opts.log?.(`${this.username}: connection to ${this.node.id} lost (code ${info.code})`);
      if (this.opts.reconnect) {
        this.reconnecting = this.reconnectLoop(outage).finally(() => {
          this.reconnecting = undefined;
        });
      }
    });
  }

  private async reconnectLoop(outage: Outage): Promise<void> {
    const deadline = outage.start + (this.opts.reconnectTimeoutMs ?? 180_000);
    for (let attempt = 1; !this.stopped && Date.now() < deadline; attempt++) {
      await new Promise((r) => setTimeout(r, RECONNECT_INTERVAL_MS));
      let conn: ChatConnection;
      try {
        conn = await ChatConnection.connect(this.node.wsUrl, this.connectionOptions());
      } catch {
        continue;
      }
      if (this.stopped) {
        await conn.close();
        return;
      }
      this.attach(conn);
      outage.end = Date.now();
      for (const roomId of this.rooms) {
        try {
          await this.joinPatiently(roomId, this.opts.rejoinTimeoutMs ?? 30_000, this.lastShownSeq(roomId) ?? 0);
        } catch (err) {
          const e = err as { code?: string; message?: string };
          this.rejoinFailures.push({ roomId, at: Date.now(), error: [e.code, e.message].filter(Boolean).join(': ') || String(err) });
        }
      }
      outage.rejoinedAt = Date.now();
      this.opts.log?.(
        `${this.username}: reconnected to ${this.node.id} after ${outage.end - outage.start} ms (attempt ${attempt}), rooms rejoined ${outage.rejoinedAt - outage.end} ms later`,
      );
      return;
    }
  }
}

/** Errors worth retrying a join for: no answer in time, or the administrator not reachable yet. */
function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return e.name === 'ChatTimeoutError' || e.code === 'ADMIN_NODE_UNAVAILABLE';
}
