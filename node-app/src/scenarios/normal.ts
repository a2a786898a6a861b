/**
 * Normal operation: two clients on every node, one room created on every node, everyone joins
 * every room (so each room has members on all nodes) and chats at once. Every acknowledged
 * message must arrive at every member exactly once and in sequence order, on the wire.
 */
import { awaitDelivery, checkDelivery } from './delivery';
import { Participant } from './participant';
import { bounded, runTag, ScenarioRecorder } from './recorder';
import { ms, summarizeMs } from './stats';
import type { NodeTarget, ScenarioResult, ScenarioSettings } from './types';

const CLIENTS_PER_NODE = 2;

export async function runNormalScenario(nodes: readonly NodeTarget[], settings: ScenarioSettings, write: (line: string) => void): Promise<ScenarioResult> {
  const rec = new ScenarioRecorder('normal', write);
  const tag = runTag();
  const people: Participant[] = [];
  const rooms: { id: string; creator: Participant }[] = [];
  try {
    for (const node of nodes) {
      for (let i = 0; i < CLIENTS_PER_NODE; i++) people.push(new Participant(`${node.id}-user${i + 1}-${tag}`, node));
    }
    await bounded('connecting the clients', 20_000, () => Promise.all(people.map((p) => p.connect())));
    rec.log(`${people.length} clients connected, ${CLIENTS_PER_NODE} per node on ${nodes.map((n) => n.id).join(', ')}`);

    for (const node of nodes) {
      const creator = people.find((p) => p.node === node)!;
      rooms.push({ id: await creator.createRoom(`normal-${node.id}-${tag}`), creator });
    }
    rec.log(`created one room on each node: ${rooms.map((r) => `${r.id.slice(0, 8)}@${r.creator.node.id}`).join(', ')}`);

    for (const p of people.filter((_, i) => i % CLIENTS_PER_NODE === 0)) {
      const found = await p.discoverRoomIds();
      const absent = rooms.filter((r) => !found.roomIds.includes(r.id));
      if (absent.length > 0 || found.unavailable.length > 0) {
        rec.problem(`discovery from ${p.node.id} misses ${absent.length} room(s); unavailable nodes: ${found.unavailable.join(', ') || 'none'}`);
      }
    }
    rec.log('discovery from every node lists every room');

    await bounded('joining every room', 30_000, () => Promise.all(people.map(async (p) => {
      for (const r of rooms) await p.join(r.id);
    })));
    rec.log(`every client joined all ${rooms.length} rooms`);

    const t0 = Date.now();
    await bounded('sending', 60_000, () => Promise.all(people.flatMap((p) => rooms.map(async (r) => {
      for (let i = 1; i <= settings.messagesPerRoom; i++) await p.send(r.id, `${p.username} #${i}`);
    }))));
    const sendMs = Date.now() - t0;
    const roomsOf = () => rooms.map((r) => r.id);
    await awaitDelivery(people, roomsOf, 20_000);

    const sent = people.flatMap((p) => p.sent);
    const failed = sent.filter((s) => s.seq === undefined);
    if (failed.length > 0) rec.problem(`${failed.length} of ${sent.length} sends failed (${[...new Set(failed.map((f) => f.error))].join(', ')})`);
    const wire = checkDelivery(people, roomsOf, 'wire');
    const shown = checkDelivery(people, roomsOf, 'shown');
    for (const p of [...wire.problems, ...shown.problems.filter((x) => !/never arrived/.test(x))]) rec.problem(p);
    for (const p of people) if (p.outages.length > 0) rec.problem(`${p.username} lost its connection ${p.outages.length} time(s)`);

    rec.figure('clients', people.length);
    rec.figure('rooms (one per node, members on every node)', rooms.length);
    rec.figure('messages acknowledged', `${sent.length - failed.length} of ${sent.length} in ${ms(sendMs)}`);
    rec.figure('deliveries (message x member)', `${wire.delivered} of ${wire.expected}, duplicates ${wire.duplicates}, out of order ${wire.outOfOrder}`);
    rec.figure('send -> ack', summarizeMs(sent.filter((s) => s.ackedAt).map((s) => s.ackedAt! - s.startedAt)));
    rec.figure('send -> delivery at other members', summarizeMs(wire.latenciesMs));

    for (const r of rooms) {
      try {
        await bounded('deleting a room', 25_000, () => r.creator.deleteRoom(r.id));
      } catch (err) {
        rec.problem(`deleting room ${r.id.slice(0, 8)} on ${r.creator.node.id} failed: ${(err as Error).message}`);
      }
    }
    rec.log('rooms deleted by their creators');
  } catch (err) {
    rec.problem(`aborted: ${(err as Error).message}`);
  } finally {
    await Promise.all(people.map((p) => p.close()));
  }
  return rec.finish();
}
