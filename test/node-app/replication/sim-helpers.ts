/**
 * Small helpers for the logical-clock suites: a room created and committed everywhere, a message
 * sent through a replica, and a box that shows a promise's outcome while the test runs the clock.
 */
import { randomUUID } from 'node:crypto';
import type { LogEntry } from '../../../node-app/src/storage/room-log-store';
import type { SimCluster, SimReplica } from './sim-cluster';

export async function newRoom(set: SimCluster, on = 'node1', room: string = randomUUID()): Promise<string> {
  const created = set.node(on).repl.createRoom(room, { room_name: 'r', description: null, creator_id: 'alice', created_at: 't0' });
  await set.runUntil('room created', () => set.nodes.every((n) => n.repl.roomStatus(room)?.commitIndex === 1), 1000);
  await created;
  return room;
}

export function send(n: SimReplica, room: string, content: string, messageId = randomUUID()): Promise<LogEntry> {
  return n.repl.submit(room, 'message', { message_id: messageId, username: 'alice', content });
}

export interface Tracked<T> { value?: T; error?: Error; done: boolean }

/** Settles `p` into an observable box so a test can run the clock while it is pending. */
export function track<T>(p: Promise<T>): Tracked<T> {
  const box: Tracked<T> = { done: false };
  p.then((v) => Object.assign(box, { value: v, done: true }), (e: Error) => Object.assign(box, { error: e, done: true }));
  return box;
}

export function contents(n: SimReplica, room: string): string[] {
  return n.store.history(room, { afterSeq: 0, limit: 10_000 }).map((m) => `${m.sequence_number}:${m.content}`);
}
