/**
 * One WebSocket client connection and what it has joined. Identity is per room: the username a
 * connection joined a room with is the only one it may act under in that room (§9.8 fixed).
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../log';
import { throttleFor } from '../limits/log-throttle';
import { RequestQueue } from '../limits/request-queue';
import { originalShape } from '../protocol/reply-shape';
import { readClientFrame, type ParseResult, type RequestLimits } from '../protocol/schemas';

/** Bytes written in one turn after which they are handed to the kernel at once instead of at the turn's end. */
const FLUSH_AT_BYTES = 256 * 1024;

export interface RoomBinding {
  username: string;
  /** Highest message sequence number written to this connection for the room; guarantees exactly-once. */
  deliveredSeq: number;
}

export class ClientSession {
  readonly rooms = new Map<string, RoomBinding>();
  /** Rooms this connection created; their creator may delete them without having joined. */
  readonly createdRooms = new Set<string>();
  /** Requests of one connection are handled one after another, so replies keep request order. */
  private queue: RequestQueue | undefined;
  /** Submitted, not yet acknowledged sends (see ChatNode.pipelineSend). */
  readonly inflightSends = new Set<Promise<void>>();
  /**
   * The client asked for our extensions (reply-shape.ts); until then its replies have exactly the
   * original's fields, which the original client needs.
   */
  extended = false;
  closed = false;
  /** Requests received so far; numbers them for the logs. */
  requestCount = 0;
  /** The socket while this connection's writes of the current turn are held (see cork). */
  private corkedSocket: { cork(): void; uncork(): void; destroyed?: boolean } | undefined;
  /** Bytes sent while corked in the current turn (see send). */
  private turnBytes = 0;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly remoteAddress: string,
    private readonly maxBufferedBytes: number,
    private readonly log: Logger,
    private readonly onSlowConsumer: () => void,
  ) {}

  /**
   * Writes one already-serialized text frame: a string, or its UTF-8 bytes when the same frame goes
   * to many connections (encoded once, not once per recipient). A client that does not read (its
   * socket buffer above the limit) is disconnected instead of letting the node's memory grow for it.
   */
  send(text: string | Buffer): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    // Checked before every write, bytes of this turn included: a client that never reads used to
    // reach 141 MB within one turn, because only what was left from earlier turns was counted.
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.maxBufferedBytes) {
      this.log.warn('closing slow consumer', { session: this.id, buffered });
      this.onSlowConsumer();
      this.closed = true;
      this.queue?.close();
      this.ws.close(1008, 'slow consumer: too much unread data');
      // If the peer does not even read the close frame, drop the TCP connection soon after.
      setTimeout(() => this.ws.terminate(), 2000).unref();
      return false;
    }
    this.cork();
    if (typeof text === 'string') this.ws.send(text);
    else this.ws.send(text, { binary: false });
    if (this.corkedSocket) {
      this.turnBytes += text.length;
      // A large turn goes to the kernel now, so a client that reads is not measured by it.
      if (this.turnBytes >= FLUSH_AT_BYTES) this.uncork();
    }
    return true;
  }

  /**
   * Holds this connection's writes until the end of the event-loop turn, so frames delivered in one
   * turn (a batch from a peer, several messages to a busy room) leave in one write syscall instead
   * of one each: writev was the top entry in the node's CPU profile under cross-node load.
   */
  private cork(): void {
    if (this.corkedSocket) return;
    // ws keeps the net.Socket here; it corks around each frame itself, and cork() nests.
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void; destroyed?: boolean } })._socket;
    if (!socket) return;
    this.corkedSocket = socket;
    socket.cork();
    setImmediate(() => this.uncork());
  }

  /** Releases the writes held by cork (once per cork; a later send corks again). */
  private uncork(): void {
    const socket = this.corkedSocket;
    if (!socket) return;
    this.corkedSocket = undefined;
    this.turnBytes = 0;
    if (!socket.destroyed) socket.uncork();
  }

  /** Writes a reply or event; a connection that did not ask for our extensions gets the original's fields only. */
  sendFrame(frame: { type: string; data?: unknown }): boolean {
    return this.send(JSON.stringify(this.extended ? frame : originalShape(frame)));
  }

  /**
   * Parses one frame of this connection (schemas.ts) and notes what the node must know about it:
   * whether the client asked for our extensions, and bad frames (counted into one log summary per
   * interval instead of a line each).
   */
  parseFrame(raw: string, limits: RequestLimits): ParseResult {
    const { parsed, extended } = readClientFrame(raw, limits);
    if (extended) this.extended = true;
    if (!parsed.ok) {
      const reply = parsed.reply as { type: string; data: { message?: string; error?: string; reason?: string } };
      const why = reply.data.message ?? reply.data.error ?? reply.data.reason ?? '';
      throttleFor(this.log, 'bad client frames').note(`${reply.type}: ${why.slice(0, 80)}`, (log) =>
        log.info('bad client frame', { session: this.id, remote: this.remoteAddress, reply: reply.type, why }),
      );
    }
    return parsed;
  }

  trackSend(done: Promise<void>): void {
    this.inflightSends.add(done);
    void done.finally(() => this.inflightSends.delete(done));
  }

  /** Resolves once every send submitted so far is acknowledged or failed. */
  async sendsSettled(): Promise<void> {
    while (this.inflightSends.size > 0) await Promise.allSettled([...this.inflightSends]);
  }

  /**
   * Queues work behind this connection's earlier requests. A client that sends faster than it is
   * served is slowed down by TCP: at `pauseAt` queued requests the node stops reading its socket and
   * resumes once the queue is down to a quarter. `hardMax` only bounds what was already read.
   */
  enqueue(work: () => Promise<void>, opts: { pauseAt: number; hardMax: number }): boolean {
    this.queue ??= new RequestQueue({
      pauseAt: opts.pauseAt,
      hardMax: opts.hardMax,
      pause: () => this.ws.pause(),
      resume: () => {
        if (!this.closed) this.ws.resume();
      },
      // Handlers answer every request themselves; one that throws is a bug, logged once per interval.
      onError: (err) =>
        throttleFor(this.log, 'client request handlers failed').note(err instanceof Error ? err.message.slice(0, 80) : 'error', (log) =>
          log.error('request handler failed', { session: this.id, err }),
        ),
    });
    return this.queue.push(work);
  }

  /** Queued requests of this connection that have not run yet (dropped when it closes). */
  dropQueued(): void {
    this.queue?.close();
  }
}

/** Which local connections are registered in which room: the recipients of room events on this node. */
export class LocalRegistry {
  private readonly byRoom = new Map<string, Set<ClientSession>>();

  register(roomId: string, session: ClientSession, username: string, deliveredSeq = 0): void {
    session.rooms.set(roomId, { username, deliveredSeq });
    let set = this.byRoom.get(roomId);
    if (!set) this.byRoom.set(roomId, (set = new Set()));
    set.add(session);
  }

  unregister(roomId: string, session: ClientSession): void {
    session.rooms.delete(roomId);
    const set = this.byRoom.get(roomId);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.byRoom.delete(roomId);
  }

  sessions(roomId: string): ReadonlySet<ClientSession> {
    return this.byRoom.get(roomId) ?? EMPTY;
  }

  /** Another live connection on this node that holds `username` in the room. */
  holder(roomId: string, username: string, except?: ClientSession): ClientSession | undefined {
    for (const s of this.sessions(roomId)) {
      if (s !== except && !s.closed && s.rooms.get(roomId)?.username === username) return s;
    }
    return undefined;
  }

  hasRoom(roomId: string): boolean {
    return this.byRoom.has(roomId);
  }

  roomIds(): string[] {
    return [...this.byRoom.keys()];
  }
}

const EMPTY: ReadonlySet<ClientSession> = new Set();
