/**
 * Rolling update: one client per node chats in one room per node (every client in every room)
 * while each node's service is replaced with the new image, one after another. Nothing here is
 * promised beyond what the deployment can give: the scenario reports what each client saw —
 * messages acknowledged and then lost, sends refused, disconnects, how long each node was away,
 * rooms that did not survive their node — and fails only if a node does not come back, a client
 * cannot chat afterwards, or a client is shown a message twice or out of order.
 */
import { checkDelivery } from './delivery';
import { HealthWatch, waitHealthy } from './health';
import { Participant } from './participant';
import { bounded, Chatter, pause, runTag, ScenarioRecorder, waitUntil } from './recorder';
import { ms } from './stats';
import type { NodeTarget, ScenarioHooks, ScenarioResult, ScenarioSettings } from './types';

const SETTLE_MS = 3_000;

export interface NodeReplacement {
  node: string;
  updateCommandMs: number;
  /** Time /healthz did not answer 200, from the update's start until it was back. */
  healthAwayMs: number;
  /** How long that node's own client had no connection (loss to reconnected). */
  clientAwayMs: number;
  /** Rejoining its rooms after reconnecting (join replies, or their timeouts). */
  rejoinMs: number;
}

export async function runRollingScenario(
  nodes: readonly NodeTarget[],
  hooks: ScenarioHooks,
  settings: ScenarioSettings,
  write: (line: string) => void,
): Promise<ScenarioResult> {
  const rec = new ScenarioRecorder('rolling', write);
  if (!hooks.updateNode) return rec.skip('needs a way to update a node\'s service (--update-cmd)');
  const tag = runTag();
  const people = nodes.map((n) => new Participant(`${n.id}-roller-${tag}`, n, { reconnect: true, reconnectTimeoutMs: settings.recoveryTimeoutMs * 2, log: (l) => rec.log(l) }));
  const watches: HealthWatch[] = [];
  const rooms: { id: string; admin: string }[] = [];
  let chatter: Chatter | undefined;
  const replaced: NodeReplacement[] = [];
  try {
    await bounded('connecting', 20_000, () => Promise.all(people.map((p) => p.connect())));
    for (const p of people) rooms.push({ id: await p.createRoom(`rolling-${p.node.id}-${tag}`), admin: p.node.id });
    for (const p of people) for (const r of rooms) await p.join(r.id);
    rec.log(`${people.length} clients, one per node, each in ${rooms.length} rooms (one administered by each node)`);
    watches.push(...nodes.map((n) => new HealthWatch(n)));

    chatter = new Chatter(settings.chatIntervalMs, (n) => {
      const p = people[n % people.length];
      if (!p.connected) return undefined;
      return p.send(rooms[Math.floor(n / people.length) % rooms.length].id, `${p.username} chat ${n}`);
    });
    await pause(SETTLE_MS);

    for (const [i, node] of nodes.entries()) {
      const client = people[i];
      const t0 = Date.now();
      const outagesBefore = client.outages.length;
      rec.log(`updating ${node.id}'s service to the new image`);
      await bounded(`updating ${node.id}`, settings.recoveryTimeoutMs * 2, () => hooks.updateNode!(node.id));
      const updateCommandMs = Date.now() - t0;
      const healthy = await waitHealthy(node, settings.recoveryTimeoutMs);
      if (healthy === undefined) {
        rec.problem(`${node.id} did not answer /healthz within ${ms(settings.recoveryTimeoutMs)} after its update`);
        break;
      }
      const back = await waitUntil(settings.recoveryTimeoutMs, () => (client.connected ? true : undefined));
      if (!back) rec.problem(`${client.username} did not get back onto ${node.id} after its update`);
      await pause(SETTLE_MS);
      const outages = client.outages.slice(outagesBefore);
      const clientAwayMs = outages.reduce((sum, o) => sum + ((o.end ?? Date.now()) - o.start), 0);
      const rejoinMs = outages.reduce((sum, o) => sum + (o.rejoinedAt !== undefined && o.end !== undefined ? o.rejoinedAt - o.end : 0), 0);
      const r: NodeReplacement = { node: node.id, updateCommandMs, healthAwayMs: watches[i].awayMs(t0), clientAwayMs, rejoinMs };
      replaced.push(r);
      rec.figure(
        `${node.id} replaced`,
        `update command ${ms(r.updateCommandMs)}, /healthz away ${ms(r.healthAwayMs)}, its client disconnected ${outages.length}x for ${ms(r.clientAwayMs)}, rejoining its rooms took ${ms(r.rejoinMs)}`,
      );
    }
    await chatter.stop();
    await pause(2_000); // let the last broadcasts arrive

    const roomIds = () => rooms.map((r) => r.id);
    const shown = checkDelivery(people, roomIds, 'shown');
    for (const p of shown.problems.filter((x) => !/never arrived/.test(x))) rec.problem(p);
    for (const p of people) {
      const acked = p.sent.filter((s) => s.seq !== undefined).length;
      const refused = p.sent.filter((s) => s.seq === undefined);
      const reasons = [...new Set(refused.map((s) => s.error))].join(', ');
      rec.figure(
        `client on ${p.node.id}`,
        `sent ${p.sent.length}, acknowledged ${acked}, refused ${refused.length}${reasons ? ` (${reasons})` : ''}; ` +
          `disconnects ${p.outages.length}; acknowledged messages of its rooms it never received: ${missingFor(people, p, roomIds())}` +
          `${p.rejoinFailures.length ? `; rooms it could not rejoin: ${p.rejoinFailures.map((f) => `${rooms.find((r) => r.id === f.roomId)?.admin}'s (${f.error})`).join(', ')}` : ''}`,
      );
    }
    // Counted per member: a message acknowledged in a room the client could not rejoin counts too.
    rec.figure('all clients: acknowledged messages not received', `${shown.missing} of ${shown.expected} deliveries`);

    // The cluster must work after the update: a fresh room, every client in it, one message each.
    const fresh = await people[0].createRoom(`rolling-after-${tag}`);
    for (const p of people) await p.join(fresh);
    for (const p of people) await p.send(fresh, `${p.username} after the update`);
    const after = people.flatMap((p) => p.sent.filter((s) => s.roomId === fresh));
    const everywhere = await waitUntil(15_000, () =>
      people.every((p) => after.every((s) => s.seq !== undefined && (p.wire.get(fresh) ?? []).some((w) => w.seq === s.seq))) ? true : undefined);
    if (!everywhere) rec.problem('after the rolling update, a new room did not carry every client\'s message to every client');
    else rec.log('after the update: a new room carries every client\'s message to every client');
  } catch (err) {
    rec.problem(`aborted: ${(err as Error).message}`);
  } finally {
    await chatter?.stop();
    await Promise.all(watches.map((w) => w.stop()));
    await Promise.all(people.map((p) => p.close()));
  }
  return rec.finish();
}

/** Messages acknowledged to anyone in `p`'s rooms that never reached `p` (on the wire or shown). */
function missingFor(people: readonly Participant[], p: Participant, roomIds: readonly string[]): number {
  const one = checkDelivery(people, (q) => (q === p ? roomIds : []), 'shown');
  return one.missing;
}
