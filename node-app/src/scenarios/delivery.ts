/**
 * Delivery checks over what the participants recorded: every acknowledged message must reach
 * every member of its room once and in sequence order, on the wire (raw frames) or as shown to
 * the user (the client library's ordered stream), depending on what a scenario promises.
 */
import type { Participant, SentRecord } from './participant';

export interface RoomDelivery {
  /** Acknowledged messages of the room, by sequence number. */
  acked: Map<number, SentRecord & { sender: string }>;
}

export function ackedByRoom(participants: readonly Participant[]): Map<string, RoomDelivery> {
  const rooms = new Map<string, RoomDelivery>();
  for (const p of participants) {
    for (const s of p.sent) {
      if (s.seq === undefined) continue;
      const room = rooms.get(s.roomId) ?? { acked: new Map() };
      room.acked.set(s.seq, { ...s, sender: p.username });
      rooms.set(s.roomId, room);
    }
  }
  return rooms;
}

export interface DeliveryReport {
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  /** Send (request written) to arrival at another member, ms. */
  latenciesMs: number[];
  problems: string[];
}

/**
 * Checks one view of delivery for every participant in every room it joined.
 * - 'wire': raw `new_message` frames; must hold each acknowledged message exactly once, ascending.
 * - 'shown': the ordered stream a user sees; duplicates or disorder there are bugs, and messages
 *   neither shown nor on the wire are lost.
 */
export function checkDelivery(
  participants: readonly Participant[],
  roomsOf: (p: Participant) => readonly string[],
  view: 'wire' | 'shown',
): DeliveryReport {
  const byRoom = ackedByRoom(participants);
  const report: DeliveryReport = { expected: 0, delivered: 0, missing: 0, duplicates: 0, outOfOrder: 0, latenciesMs: [], problems: [] };
  for (const p of participants) {
    for (const roomId of roomsOf(p)) {
      const acked = byRoom.get(roomId)?.acked ?? new Map();
      const seqs = view === 'wire'
        ? (p.wire.get(roomId) ?? []).map((w) => ({ seq: w.seq, at: w.at }))
        : (p.shown.get(roomId) ?? []).map((m) => ({ seq: m.sequence_number, at: NaN }));
      const seen = new Set<number>();
      let previous = 0;
      let dups = 0;
      let disorder = 0;
      for (const { seq, at } of seqs) {
        if (seen.has(seq)) dups++;
        else if (seq < previous) disorder++;
        seen.add(seq);
        previous = Math.max(previous, seq);
        const sent = acked.get(seq);
        if (sent && sent.sender !== p.username && Number.isFinite(at)) report.latenciesMs.push(at - sent.startedAt);
      }
      // What reached the client at all: a message shown late is not lost.
      const arrived = new Set([...seen, ...(p.wire.get(roomId) ?? []).map((w) => w.seq)]);
      const missing = [...acked.keys()].filter((s) => !arrived.has(s)).sort((a, b) => a - b);
      report.expected += acked.size;
      report.delivered += acked.size - missing.length;
      report.missing += missing.length;
      report.duplicates += dups;
      report.outOfOrder += disorder;
      const where = `${p.username}@${p.node.id} in room ${roomId.slice(0, 8)}`;
      if (missing.length > 0) report.problems.push(`${where}: ${missing.length} acknowledged message(s) never arrived (seq ${abbreviate(missing)})`);
      if (dups > 0) report.problems.push(`${where}: ${dups} duplicate message(s) ${view === 'wire' ? 'on the wire' : 'shown'}`);
      if (disorder > 0) report.problems.push(`${where}: ${disorder} message(s) out of sequence order ${view === 'wire' ? 'on the wire' : 'shown'}`);
    }
  }
  return report;
}

function abbreviate(seqs: number[]): string {
  return seqs.length <= 8 ? seqs.join(',') : `${seqs.slice(0, 8).join(',')},... (${seqs.length})`;
}

/** Waits (bounded) until every participant has every acknowledged message of its rooms on the wire. */
export async function awaitDelivery(
  participants: readonly Participant[],
  roomsOf: (p: Participant) => readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (checkDelivery(participants, roomsOf, 'wire').missing === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
