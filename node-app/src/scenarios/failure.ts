/**
 * Node failure: node2's host engine is stopped while clients on node1 and node3 keep chatting in
 * rooms administered by node1 and node3 (with a member on node2). Those clients must not be
 * disturbed (no disconnect, every send answered within the stall bound, every message delivered
 * once and in order), node2's member must be reported gone within the failure-detection time,
 * and after node2's engine starts again its service must return and its clients must chat.
 *
 * Partition: the same, but node2 is cut off the network instead (no goodbye from a shutting-down
 * node), so only the other nodes' failure detection can report its member gone; then healed.
 */
import { awaitDelivery, checkDelivery } from './delivery';
import { waitHealthy } from './health';
import { Participant } from './participant';
import { bounded, Chatter, pause, runTag, ScenarioRecorder, waitUntil } from './recorder';
import { ms, summarizeMs } from './stats';
import type { NodeTarget, ScenarioHooks, ScenarioResult, ScenarioSettings } from './types';

/** Chatting continues this long after the failure was detected, while node2 is still down. */
const CHAT_WHILE_DOWN_MS = 5_000;

interface LossKind {
  name: 'failure' | 'partition';
  down?: (nodeId: string) => Promise<void>;
  up?: (nodeId: string) => Promise<void>;
  missing: string;
  downWords: string;
  upWords: string;
}

export function runFailureScenario(nodes: readonly NodeTarget[], hooks: ScenarioHooks, settings: ScenarioSettings, write: (line: string) => void): Promise<ScenarioResult> {
  return runNodeLoss(nodes, {
    name: 'failure',
    down: hooks.stopNode,
    up: hooks.startNode,
    missing: 'needs a way to stop and start node2 (--stop-cmd and --start-cmd)',
    downWords: 'stopping {node}\'s engine',
    upWords: 'starting {node}\'s engine',
  }, settings, write);
}

export function runPartitionScenario(nodes: readonly NodeTarget[], hooks: ScenarioHooks, settings: ScenarioSettings, write: (line: string) => void): Promise<ScenarioResult> {
  return runNodeLoss(nodes, {
    name: 'partition',
    down: hooks.cutNode,
    up: hooks.healNode,
    missing: 'needs a way to cut node2 off the network and heal it (--cut-cmd and --heal-cmd)',
    downWords: 'cutting {node} off the network',
    upWords: 'healing {node}\'s network',
  }, settings, write);
}

async function runNodeLoss(
  nodes: readonly NodeTarget[],
  kind: LossKind,
  settings: ScenarioSettings,
  write: (line: string) => void,
): Promise<ScenarioResult> {
  const rec = new ScenarioRecorder(kind.name, write);
  const hooks = { stopNode: kind.down, startNode: kind.up };
  if (!hooks.stopNode || !hooks.startNode) return rec.skip(kind.missing);
  if (nodes.length < 3) return rec.skip('needs three nodes');
  const [n1, victim, n3] = nodes;
  const downWords = kind.downWords.replace('{node}', victim.id);
  const upWords = kind.upWords.replace('{node}', victim.id);
  const tag = runTag();
  const a = new Participant(`${n1.id}-a-${tag}`, n1);
  const c = new Participant(`${n3.id}-c-${tag}`, n3);
  const b = new Participant(`${victim.id}-b-${tag}`, victim);
  const people = [a, c, b];
  const survivors = [a, c];
  let late: Participant | undefined;
  const rooms: { id: string; creator: Participant }[] = [];
  let victimStopped = false;
  let chatter: Chatter | undefined;
  try {
    await bounded('connecting', 20_000, () => Promise.all(people.map((p) => p.connect())));
    rooms.push({ id: await a.createRoom(`failure-${n1.id}-${tag}`), creator: a });
    rooms.push({ id: await c.createRoom(`failure-${n3.id}-${tag}`), creator: c });
    for (const p of people) for (const r of rooms) await p.join(r.id);
    rec.log(`rooms on ${n1.id} and ${n3.id}, each with members on ${n1.id}, ${victim.id}, ${n3.id}`);
    const roomIds = () => rooms.map((r) => r.id);
    for (const p of people) for (const r of rooms) await p.send(r.id, `${p.username} warm-up`);
    await awaitDelivery(people, roomIds, 10_000);

    let stopAt = 0;
    chatter = new Chatter(settings.chatIntervalMs, (n) => {
      const p = survivors[n % 2];
      return p.send(rooms[Math.floor(n / 2) % 2].id, `${p.username} chat ${n}`);
    });
    await pause(1_000);
    stopAt = Date.now();
    rec.log(`${downWords} while ${survivors.map((p) => p.node.id).join(' and ')} chat`);
    await bounded(downWords, settings.recoveryTimeoutMs, () => hooks.stopNode!(victim.id));
    victimStopped = true;
    const stopCmdMs = Date.now() - stopAt;

    // node2's member must leave both rooms, as seen by both survivors.
    const goneAt = await waitUntil(settings.failureDetectionMs * 2 + stopCmdMs, () => {
      const times = survivors.flatMap((p) => rooms.map((r) => p.memberLeft.find((m) => m.roomId === r.id && m.username === b.username)?.at));
      return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined;
    });
    const reasons = [...new Set(survivors.flatMap((p) => p.memberLeft.filter((m) => m.username === b.username).map((m) => m.reason ?? '(none)')))];
    if (goneAt === undefined) {
      rec.problem(`${victim.id}'s member was not reported gone to both survivors in both rooms within ${ms(settings.failureDetectionMs * 2 + stopCmdMs)}`);
    } else {
      rec.figure(`${victim.id}'s member reported gone after`, `${ms(goneAt - stopAt)} from the start of ${downWords} (the command took ${ms(stopCmdMs)}; reason: ${reasons.join(', ')})`);
      if (goneAt - stopAt > settings.failureDetectionMs + stopCmdMs) {
        rec.problem(`member reported gone after ${ms(goneAt - stopAt)}, more than the failure-detection time ${ms(settings.failureDetectionMs)} after the stop command`);
      }
    }
    await pause(CHAT_WHILE_DOWN_MS);

    const startAt = Date.now();
    await bounded(upWords, settings.recoveryTimeoutMs, () => hooks.startNode!(victim.id));
    victimStopped = false;
    const healthyAfter = await waitHealthy(victim, settings.recoveryTimeoutMs);
    if (healthyAfter === undefined) rec.problem(`${victim.id} did not answer /healthz within ${ms(settings.recoveryTimeoutMs)} of ${upWords}`);
    else rec.figure(`${victim.id} healthy again after`, `${ms(Date.now() - startAt)} from ${upWords} (away ${ms(Date.now() - stopAt)} in all)`);
    await chatter.stop();
    await awaitDelivery(survivors, roomIds, 10_000);

    const during = survivors.flatMap((p) => p.sent).filter((s) => s.startedAt >= stopAt);
    const failed = during.filter((s) => s.seq === undefined);
    const ackMs = during.filter((s) => s.ackedAt).map((s) => s.ackedAt! - s.startedAt);
    rec.figure('survivors\' sends during the outage', `${during.length - failed.length} of ${during.length} acknowledged; send -> ack ${summarizeMs(ackMs)}`);
    if (failed.length > 0) rec.problem(`${failed.length} survivor send(s) failed during the outage (${[...new Set(failed.map((f) => f.error))].join(', ')})`);
    const slow = ackMs.filter((x) => x > settings.maxStallMs);
    if (slow.length > 0) rec.problem(`${slow.length} survivor send(s) took longer than ${settings.maxStallMs} ms during the outage`);
    for (const p of survivors) if (p.outages.length > 0) rec.problem(`${p.username} on ${p.node.id} lost its connection while ${victim.id} was away`);
    // A survivor removed from a room (e.g. its healthy node wrongly declared failed) explains refused sends.
    const survivorNames = new Set(survivors.map((p) => p.username));
    for (const p of survivors) {
      for (const m of p.memberLeft.filter((x) => survivorNames.has(x.username))) {
        const room = rooms.find((r) => r.id === m.roomId)?.creator.node.id ?? m.roomId.slice(0, 8);
        rec.problem(`${p.username} was told that survivor ${m.username} left ${room}'s room ${ms(m.at - stopAt)} after the stop (reason: ${m.reason ?? 'none'})`);
      }
    }
    const wire = checkDelivery(survivors, roomIds, 'wire');
    for (const p of wire.problems) rec.problem(p);
    rec.figure('survivor deliveries', `${wire.delivered} of ${wire.expected}, duplicates ${wire.duplicates}, out of order ${wire.outOfOrder}; send -> delivery ${summarizeMs(wire.latenciesMs)}`);
    rec.figure(`${victim.id}'s own client`, b.outages.length > 0 ? `disconnected (code ${b.outages[0].closeCode})` : 'was not disconnected');

    if (healthyAfter !== undefined) {
      late = new Participant(`${victim.id}-d-${tag}`, victim);
      const joinStart = Date.now();
      let attempts = 0;
      try {
        await late.connect();
        for (const r of rooms) attempts += await late.joinPatiently(r.id, settings.recoveryTimeoutMs);
      } catch (err) {
        throw new Error(`after recovery a new client on ${victim.id} could not join the rooms of ${n1.id} and ${n3.id} within ${ms(Date.now() - joinStart)}: ${(err as Error).message}`);
      }
      rec.figure(`a new client on ${victim.id} joined both rooms`, `${ms(Date.now() - joinStart)} after ${victim.id} was healthy (${attempts} join attempts for 2 rooms)`);
      const check = [a, c, late];
      const before = new Map(check.map((p) => [p, p.sent.length]));
      for (const p of check) for (const r of rooms) await p.send(r.id, `${p.username} after recovery`);
      const fresh = check.flatMap((p) => p.sent.slice(before.get(p)));
      const unacked = fresh.filter((s) => s.seq === undefined);
      if (unacked.length > 0) rec.problem(`after recovery ${unacked.length} send(s) failed (${[...new Set(unacked.map((f) => f.error))].join(', ')})`);
      const arrivedEverywhere = await waitUntil(15_000, () =>
        check.every((p) => fresh.every((s) => s.seq === undefined || (p.wire.get(s.roomId) ?? []).some((w) => w.seq === s.seq))) ? true : undefined);
      if (!arrivedEverywhere) {
        const misses = check.flatMap((p) => fresh
          .filter((s) => s.seq !== undefined && !(p.wire.get(s.roomId) ?? []).some((w) => w.seq === s.seq))
          .map((s) => `${p.node.id} missed seq ${s.seq} of room ${rooms.find((r) => r.id === s.roomId)?.creator.node.id}'s`));
        rec.problem(`after recovery not every message arrived everywhere within 15 s: ${misses.join('; ')}`);
      }
      else rec.log(`after recovery a new client on ${victim.id} chats with ${n1.id} and ${n3.id} in both rooms`);
    }

    for (const r of rooms) {
      try {
        await bounded('deleting a room', 25_000, () => r.creator.deleteRoom(r.id));
      } catch (err) {
        rec.log(`note: deleting room ${r.id.slice(0, 8)} failed: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    rec.problem(`aborted: ${(err as Error).message}`);
  } finally {
    await chatter?.stop();
    if (victimStopped) {
      // Never leave the deployment with a node down because a check above failed.
      await bounded(`${upWords} after an aborted run`, settings.recoveryTimeoutMs, () => hooks.startNode!(victim.id)).catch((e) =>
        rec.problem(`could not restart ${victim.id}: ${(e as Error).message}`));
    }
    await Promise.all([...people, ...(late ? [late] : [])].map((p) => p.close()));
  }
  return rec.finish();
}
