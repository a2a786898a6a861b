/**
 * Innocent clients for abuse tests: each joins a room, sends one message at a time (the next once
 * the previous is acknowledged, after a short pause) and records every acknowledgement latency and
 * whether the node ever told it that it left the room. What an abusive client must never change.
 */
import { TestClient } from './ws-client';
import { sleep } from './wait';

export interface InnocentStats {
  username: string;
  acks: number;
  /** Acknowledgement latencies in ms, in send order. */
  latencies: number[];
  maxMs: number;
  /** Sends that got no message_sent (an error reply, or none before the deadline). */
  failures: string[];
  /** member_left events naming this client (it was removed from its room). */
  removed: number;
  /** The node closed this client's connection. */
  closed: boolean;
}

export class InnocentChatter {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly stats: InnocentStats;

  private constructor(
    readonly client: TestClient,
    readonly roomId: string,
    readonly username: string,
  ) {
    this.stats = { username, acks: 0, latencies: [], maxMs: 0, failures: [], removed: 0, closed: false };
  }

  /** Connects to `wsUrl` and joins `roomId` as `username`. */
  static async join(wsUrl: string, roomId: string, username: string): Promise<InnocentChatter> {
    const client = await TestClient.connect(wsUrl);
    const r = await client.request('join_room', { room_id: roomId, username }, ['join_room_success', 'join_room_error'], 10_000);
    if (r.type !== 'join_room_success') throw new Error(`${username} could not join: ${JSON.stringify(r.data)}`);
    return new InnocentChatter(client, roomId, username);
  }

  /** Starts chatting: one send every `pauseMs` after the previous acknowledgement. */
  start(pauseMs = 100): void {
    this.running = true;
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const started = Date.now();
        try {
          // The deadline only keeps a frozen node from hanging the test; the latency is what is judged.
          const r = await this.client.request('send_message', { room_id: this.roomId, username: this.username, content: `${this.username} ${i}` }, ['message_sent', 'message_error', 'error'], 20_000);
          const ms = Date.now() - started;
          if (r.type === 'message_sent') {
            this.stats.acks++;
            this.stats.latencies.push(ms);
            this.stats.maxMs = Math.max(this.stats.maxMs, ms);
          } else this.stats.failures.push(`${r.type}: ${JSON.stringify(r.data)}`);
        } catch (err) {
          this.stats.failures.push((err as Error).message);
          this.stats.maxMs = Math.max(this.stats.maxMs, Date.now() - started);
        }
        await sleep(pauseMs);
      }
    })();
  }

  /** Stops after the send in progress and returns what was recorded. */
  async stop(): Promise<InnocentStats> {
    this.running = false;
    await this.loop;
    this.stats.removed = this.client.ofType('member_left', this.roomId).filter((f) => f.data.username === this.username).length;
    this.stats.closed = this.client.closed;
    await this.client.close();
    return this.stats;
  }
}

/** Median and worst of a set of latencies, for the figures a test prints. */
export function latencySummary(all: InnocentStats[]): { acks: number; p50: number; p99: number; max: number } {
  const l = all.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const at = (q: number) => (l.length ? l[Math.min(l.length - 1, Math.floor(q * l.length))] : NaN);
  return { acks: l.length, p50: at(0.5), p99: at(0.99), max: Math.max(0, ...all.map((s) => s.maxMs)) };
}
