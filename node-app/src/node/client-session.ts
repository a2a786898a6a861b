/**
 * One WebSocket client connection and what it has joined. Identity is per room: the username a
 * connection joined a room with is the only one it may act under in that room (§9.8 fixed).
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../log';

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
  private queue: Promise<void> = Promise.resolve();
  /** Submitted, not yet acknowledged sends (see ChatNode.pipelineSend). */
  readonly inflightSends = new Set<Promise<void>>();
  private pending = 0;
  private readPaused = false;
  closed = false;
  alive = true;
  /** Requests received so far; numbers them for the logs. */
  requestCount = 0;
  private corked = false;
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
   * Writes one already-serialized frame. A client that does not read (its socket buffer above the
   * limit) is disconnected instead of letting the node's memory grow for it.
   */
  send(text: string): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    // Bytes written in this event-loop turn are still corked here, not unread by the client.
    const unread = this.ws.bufferedAmount - this.turnBytes;
    if (unread > this.maxBufferedBytes) {
      this.log.warn('closing slow consumer', { session: this.id, buffered: unread });
      this.onSlowConsumer();
      this.closed = true;
      this.ws.close(1008, 'slow consumer: too much unread data');
      // If the peer does not even read the close frame, drop the TCP connection soon after.
      setTimeout(() => this.ws.terminate(), 2000).unref();
      return false;
    }
    this.cork();
    this.ws.send(text);
    if (this.corked) this.turnBytes += Buffer.byteLength(text);
    return true;
  }

  /**
   * Holds this connection's writes until the end of the event-loop turn, so frames delivered in one
   * turn (a batch from a peer, several messages to a busy room) leave in one write syscall instead
   * of one each: writev was the top entry in the node's CPU profile under cross-node load.
   */
  private cork(): void {
    if (this.corked) return;
    // ws keeps the net.Socket here; it corks around each frame itself, and cork() nests.
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void; destroyed?: boolean } })._socket;
    if (!socket) return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      this.turnBytes = 0;
      if (!socket.destroyed) socket.uncork();
    });
  }

  sendFrame(frame: unknown): boolean {
    return this.send(JSON.stringify(frame));
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
    if (this.pending >= opts.hardMax) return false;
    this.pending++;
    if (this.pending >= opts.pauseAt && !this.readPaused) {
      this.readPaused = true;
      this.ws.pause();
    }
    this.queue = this.queue
      .then(work)
      .catch((err) => this.log.error('request handler failed', { session: this.id, err }))
      .finally(() => {
        this.pending--;
        if (this.readPaused && this.pending <= opts.pauseAt / 4) {
          this.readPaused = false;
          if (!this.closed) this.ws.resume();
        }
      });
    return true;
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
