/**
 * Continuous chat against real nodes, and the per-message audit of what it produced: senders that
 * fire a message every period without waiting for the previous answer (as a chat client over one
 * connection does), move to another node when theirs goes away (join with `resumeAfter`), and
 * record every send's outcome. `audit` compares the outcomes with the rooms' committed history:
 * acknowledged but lost, stored twice, out of a sender's order, answered with an error and
 * committed anyway, and senders left without a connection.
 */
import { ChatConnection } from '../../node-app/src/clients/core/chat-connection';
import type { ChatMessage } from '../../node-app/src/protocol/messages';
import { sleep } from './wait';

export type SendOutcome = 'pending' | 'acked' | 'error' | 'closed' | 'timeout';

export interface SendRecord {
  sender: string;
  roomId: string;
  /** The sender's own counter: its messages must commit in this order. */
  n: number;
  content: string;
  outcome: SendOutcome;
  seq?: number;
  code?: string;
}

interface Sender {
  name: string;
  roomId: string;
  nodeId: string;
  conn?: ChatConnection;
  n: number;
  lastShown: number;
  moving: boolean;
  moves: number;
  /** True once the sender could not get back onto any node. */
  stranded: boolean;
}

export interface ChatLoadOptions {
  /** ws URL of a node by id. */
  url(nodeId: string): string;
  /** Nodes a sender may move to (running and meant to serve). */
  liveNodes(): string[];
  periodMs?: number;
  requestTimeoutMs?: number;
}

export interface AuditFigures {
  sent: number;
  acked: number;
  errors: number;
  /** Sends whose connection closed before an answer (their fate is unknown to the client). */
  unanswered: number;
  committed: number;
  ackedLost: number;
  duplicates: number;
  senderInversions: number;
  errorThenCommit: number;
  /** Senders that could not reconnect anywhere. */
  stranded: number;
}

export class ChatLoad {
  readonly records: SendRecord[] = [];
  private readonly senders: Sender[] = [];
  private timer?: ReturnType<typeof setInterval>;
  private stopped = false;

  constructor(private readonly opts: ChatLoadOptions) {}

  async addSender(roomId: string, name: string, nodeId: string): Promise<void> {
    const s: Sender = { name, roomId, nodeId, n: 0, lastShown: 0, moving: false, moves: 0, stranded: false };
    this.senders.push(s);
    await this.connect(s, nodeId);
  }

  start(): void {
    this.timer = setInterval(() => {
      for (const s of this.senders) this.fire(s);
    }, this.opts.periodMs ?? 50);
  }

  /** Moves every sender on `nodeId` elsewhere now (the node is about to go away). */
  async moveOff(nodeId: string): Promise<void> {
    await Promise.all(this.senders.filter((s) => s.nodeId === nodeId).map((s) => this.move(s)));
  }

  /** Stops sending and waits (bounded) until every send has an outcome. */
  async stop(maxWaitMs = 20_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const end = Date.now() + maxWaitMs;
    while (this.records.some((r) => r.outcome === 'pending') && Date.now() < end) await sleep(50);
    for (const r of this.records) if (r.outcome === 'pending') r.outcome = 'timeout';
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.senders.map((s) => s.conn?.close()));
  }

  senderNodes(): Record<string, string> {
    return Object.fromEntries(this.senders.map((s) => [s.name, s.nodeId]));
  }

  private fire(s: Sender): void {
    if (this.stopped || s.moving || !s.conn?.isOpen) return;
    const n = ++s.n;
    const rec: SendRecord = { sender: s.name, roomId: s.roomId, n, content: `${s.name}|${n}`, outcome: 'pending' };
    this.records.push(rec);
    s.conn.sendMessage(s.roomId, s.name, rec.content).then(
      (a) => {
        rec.outcome = 'acked';
        rec.seq = a.sequence_number;
      },
      (err: Error & { code?: string }) => {
        if (err.name === 'ChatConnectionClosedError') rec.outcome = 'closed';
        else if (err.name === 'ChatTimeoutError') rec.outcome = 'timeout';
        else {
          rec.outcome = 'error';
          rec.code = err.code;
        }
      },
    );
  }

  private async connect(s: Sender, nodeId: string): Promise<void> {
    const conn = await ChatConnection.connect(this.opts.url(nodeId), { requestTimeoutMs: this.opts.requestTimeoutMs ?? 30_000 });
    conn.on('error', () => undefined); // a socket error ends in 'close', which is what moves the sender
    conn.on('message', (m: ChatMessage) => {
      if (m.room_id === s.roomId) s.lastShown = Math.max(s.lastShown, m.sequence_number);
    });
    // Same name on the new node: the membership moves once the old node is seen gone (USERNAME_TAKEN until then).
    for (let attempt = 0; ; attempt++) {
      try {
        await conn.joinRoom(s.roomId, s.name, s.lastShown > 0 ? { resumeAfter: s.lastShown } : {});
        break;
      } catch (err) {
        // A node that does not serve (being added or removed) says so: go elsewhere at once.
        if (attempt >= 100 || (err as { code?: string }).code === 'NODE_NOT_READY') {
          await conn.close();
          throw err;
        }
        await sleep(100);
      }
    }
    s.conn = conn;
    s.nodeId = nodeId;
    conn.on('close', (ev: { expected: boolean }) => {
      if (!ev.expected && !this.stopped && s.conn === conn) void this.move(s);
    });
  }

  private async move(s: Sender): Promise<void> {
    if (s.moving) return;
    s.moving = true;
    const old = s.conn;
    s.conn = undefined;
    await old?.close().catch(() => undefined);
    for (let attempt = 0; attempt < 50 && !this.stopped; attempt++) {
      const targets = this.opts.liveNodes().filter((id) => id !== s.nodeId);
      const to = targets[(s.moves + attempt) % Math.max(1, targets.length)];
      if (to) {
        try {
          await this.connect(s, to);
          s.moves++;
          s.moving = false;
          return;
        } catch {
          /* try another node */
        }
      }
      await sleep(200);
    }
    s.stranded = !this.stopped;
    s.moving = false;
  }

  /** Checks every send against the rooms' committed history (`history`: room -> messages, oldest first). */
  audit(history: Map<string, ChatMessage[]>): AuditFigures {
    const seqByContent = new Map<string, number[]>();
    let committed = 0;
    for (const msgs of history.values()) {
      for (const m of msgs) {
        committed++;
        seqByContent.set(`${m.room_id}\n${m.content}`, [...(seqByContent.get(`${m.room_id}\n${m.content}`) ?? []), m.sequence_number]);
      }
    }
    let duplicates = 0;
    for (const seqs of seqByContent.values()) duplicates += seqs.length - 1;
    let senderInversions = 0;
    const highest = new Map<string, number>();
    let ackedLost = 0;
    let errorThenCommit = 0;
    for (const r of this.records) {
      const seq = seqByContent.get(`${r.roomId}\n${r.content}`)?.[0];
      if (r.outcome === 'acked' && seq === undefined) ackedLost++;
      if (r.outcome === 'error' && seq !== undefined) errorThenCommit++;
      if (seq === undefined) continue;
      const key = `${r.roomId}\n${r.sender}`;
      if ((highest.get(key) ?? 0) > seq) senderInversions++;
      highest.set(key, Math.max(highest.get(key) ?? 0, seq));
    }
    return {
      sent: this.records.length,
      acked: this.records.filter((r) => r.outcome === 'acked').length,
      errors: this.records.filter((r) => r.outcome === 'error').length,
      unanswered: this.records.filter((r) => r.outcome === 'closed' || r.outcome === 'timeout').length,
      committed,
      ackedLost,
      duplicates,
      senderInversions,
      errorThenCommit,
      stranded: this.senders.filter((s) => s.stranded).length,
    };
  }
}

/** A room's whole committed history as one node serves it (get_history, paged forward). */
export async function roomHistory(url: string, roomId: string): Promise<ChatMessage[]> {
  const conn = await ChatConnection.connect(url, { requestTimeoutMs: 30_000 });
  try {
    const out: ChatMessage[] = [];
    for (;;) {
      const page = await conn.getHistory(roomId, { afterSeq: out.length ? out[out.length - 1].sequence_number : 0, limit: 500 });
      out.push(...page.messages);
      if (!page.has_more || page.messages.length === 0) return out;
    }
  } finally {
    await conn.close();
  }
}
