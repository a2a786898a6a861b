/**
 * One bounded traffic run: connect the clients, build the rooms, send for a fixed time, drain, and
 * measure. Two drivers: open loop (a fixed offered rate paced by the clock, never waiting for acks,
 * so queueing shows as latency) and closed loop (each sender sends its next message as soon as its
 * previous one is acknowledged, so the figure is acknowledged throughput). Fan-out, many-rooms,
 * CPU per delivery and closed loop are all plans for this runner.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createHistogram } from 'node:perf_hooks';
import { LoadClient, protocolErrorsOf, RawSocketIoClient, SocketIoClient, SwarmChatClient } from '../load/clients';
import { encodeContent, nowMicros } from '../load/payload';
import { DeliveryFigures, Tracker } from '../load/tracker';
import { cpuDeltaMicros, cpuSnapshot, loadavg1, processAlive, processSyscalls } from '../measure/proc';
import { RunningSystem } from '../systems/types';

export interface TrafficPlan {
  workload: string;
  /** Node index of each client. */
  clientNode: number[];
  /** Per room: the client that creates it (its node administers it) and its member clients. */
  rooms: { creator: number; members: number[] }[];
  /** The clients that send, round-robin; each is a member of exactly one room. */
  senders: number[];
  /** Offered messages per second over all senders (open loop); unused in a closed loop. */
  rate: number;
  /** Closed loop: every sender keeps exactly one message in flight, sending the next on its ack. */
  closedLoop?: boolean;
  durationMs: number;
  drainTimeoutMs: number;
  setupTimeoutMs?: number;
}

export interface TrafficResult {
  workload: string;
  system: string;
  /** 0 in a closed loop (nothing is offered: the system's acks pace the senders). */
  offeredRate: number;
  mode: 'open' | 'closed';
  durationMs: number;
  clients: number;
  rooms: number;
  senders: number;
  figures: DeliveryFigures;
  /** Messages delivered to all their room's members, per second of the active window. */
  deliveredMsgsPerSec: number;
  deliveriesPerSec: number;
  /** Acknowledged sends per second, from the first send to the last ack (the closed loop's figure). */
  ackedMsgsPerSec: number;
  drained: boolean;
  drainMs: number;
  serverCpuMs: number;
  /** Server CPU over the active window as a share of one core (100 = one full core). */
  serverCpuPctOfCore: number;
  cpuMicrosPerDelivery: number;
  /** Server CPU split by process (node1.., redis): where the cost sits, e.g. on a room's admin. */
  serverCpuMsByProcess: Record<string, number>;
  /** Read+write system calls of all server processes per delivery (1 = one write per recipient). */
  syscallsPerDelivery: number;
  /** Node-to-node calls (all nodes) per acknowledged message; NaN for systems that do not count them. */
  peerCallsPerMessage: number;
  loadGenCpuPctOfCore: number;
  /** The kernel's share of it (socket reads and epoll on loopback). */
  loadGenSystemCpuPctOfCore: number;
  /** How late the pacing loop sent its messages against the schedule (the load generator keeping up). */
  loadGenMaxLagMs: number;
  loadGenP99LagMs: number;
  loadavgBefore: number;
  loadavgAfter: number;
  protocolErrors: number;
  lastProtocolError: string;
  /** Server processes (by role) that were gone at the end of the step. */
  serverDied: string[];
  /** Which run of a repeated step this is (1-based). */
  repetition?: number;
}

const SETUP_BATCH = 50;

export function makeClient(system: RunningSystem, node: number): LoadClient {
  const url = system.nodeUrls[node % system.nodeUrls.length];
  if (system.protocol === 'socketio') return new RawSocketIoClient(url);
  if (system.protocol === 'socketio-lib') return new SocketIoClient(url);
  return new SwarmChatClient(url, system.roomTotalOrder);
}

/** Runs fn over items with at most `batch` in flight. */
export async function inBatches<T>(items: T[], batch: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += batch) {
    await Promise.all(items.slice(i, i + batch).map((it, k) => fn(it, i + k)));
  }
}

/** The clients of a plan, connected, with every room created and every member joined. */
export interface RoomSetup {
  clients: LoadClient[];
  roomIds: string[];
  /** Room index of each client (-1: in no room). */
  receiverRoom: Int32Array;
}

/**
 * Connects every client of the plan, creates the rooms (the creator's node administers a room of
 * ours) and joins the members from their own nodes. On failure the clients are closed.
 */
export async function setupRooms(system: RunningSystem, plan: Pick<TrafficPlan, 'workload' | 'clientNode' | 'rooms' | 'setupTimeoutMs'>): Promise<RoomSetup> {
  const setupTimeout = plan.setupTimeoutMs ?? 15000;
  const clients = plan.clientNode.map((node) => makeClient(system, node));
  try {
    await inBatches(clients, SETUP_BATCH, (c) => c.connect(setupTimeout));
    const roomIds: string[] = new Array<string>(plan.rooms.length);
    const stamp = Date.now().toString(36);
    await inBatches(plan.rooms, SETUP_BATCH, async (room, r) => {
      roomIds[r] = await clients[room.creator].createRoom(`bench-${plan.workload}-${stamp}-${r}`, `u${room.creator}`, setupTimeout);
    });
    const receiverRoom = new Int32Array(clients.length).fill(-1);
    const joins: { client: number; room: number }[] = [];
    plan.rooms.forEach((room, r) => room.members.forEach((m) => joins.push({ client: m, room: r })));
    for (const j of joins) receiverRoom[j.client] = j.room;
    await inBatches(joins, SETUP_BATCH, (j) => clients[j.client].join(roomIds[j.room], `u${j.client}`, setupTimeout));
    return { clients, roomIds, receiverRoom };
  } catch (err) {
    for (const c of clients) c.close();
    throw err;
  }
}

/** Most acknowledged msg/s a closed loop is sized for (the send-time table; 4 MB at 30 senders x 10 s). */
const CLOSED_LOOP_MAX_RATE = 50000;

export async function runTraffic(system: RunningSystem, plan: TrafficPlan): Promise<TrafficResult> {
  const { clients, roomIds, receiverRoom } = await setupRooms(system, plan);
  try {
    // Let the member_joined chatter of the last joins settle before the clock starts.
    await sleep(300);

    const senderRoom = new Int32Array(plan.senders.length);
    plan.senders.forEach((c, s) => {
      if (receiverRoom[c] < 0) throw new Error(`sender client ${c} is in no room`);
      senderRoom[s] = receiverRoom[c];
      clients[c].sender = s;
    });
    const total = plan.closedLoop ? Math.ceil((CLOSED_LOOP_MAX_RATE * plan.durationMs) / 1000) : Math.round((plan.rate * plan.durationMs) / 1000);
    const tracker = new Tracker({
      receiverRoom,
      senderRoom,
      maxPerSender: Math.ceil(total / plan.senders.length) + 1,
      roomTotalOrder: system.roomTotalOrder,
      receiverNode: Int32Array.from(plan.clientNode),
      senderNode: Int32Array.from(plan.senders.map((c) => plan.clientNode[c])),
    });
    clients.forEach((c, i) => {
      c.receiver = i;
      c.tracker = tracker;
    });
    const senderClient = plan.senders.map((c) => clients[c]);
    const senderRoomId = plan.senders.map((c) => roomIds[receiverRoom[c]]);
    const senderName = plan.senders.map((c) => `u${c}`);
    const sendOne = (s: number, t: number): boolean => {
      const seq = tracker.onSend(s, t);
      if (seq === 0) return false;
      senderClient[s].send(senderRoomId[s], senderName[s], encodeContent(s, seq, t));
      return true;
    };

    const calls0 = await system.peerCalls?.();
    const cpu0 = cpuSnapshot(system.serverPids);
    const sys0 = system.serverPids.map(processSyscalls);
    const own0 = process.cpuUsage();
    const load0 = loadavg1();
    const t0 = nowMicros();
    const lag = plan.closedLoop
      ? await driveClosedLoop(tracker, plan.senders.length, t0, plan.durationMs, plan.drainTimeoutMs, sendOne)
      : await driveOpenLoop(plan.rate, total, plan.senders.length, t0, sendOne);
    const sendEnd = nowMicros();
    const drainDeadline = sendEnd + plan.drainTimeoutMs * 1000;
    while (!tracker.drained() && nowMicros() < drainDeadline) await sleep(5);
    const drained = tracker.drained();
    const end = nowMicros();
    const cpu1 = cpuSnapshot(system.serverPids);
    const sys1 = system.serverPids.map(processSyscalls);
    const calls1 = await system.peerCalls?.();
    const byProcess: Record<string, number> = {};
    system.serverPids.forEach((pid, i) => {
      byProcess[system.serverRoles[i] ?? String(pid)] = Math.round(((cpu1.get(pid) ?? NaN) - (cpu0.get(pid) ?? NaN)) / 1000);
    });
    let syscalls = 0;
    sys1.forEach((v, i) => (syscalls += v - sys0[i]));
    const own = process.cpuUsage(own0);
    const figures = tracker.figures();
    const lastActivity = Math.max(tracker.lastDeliveryMicros, tracker.lastAckMicros, sendEnd);
    const windowS = Math.max(1e-6, (lastActivity - t0) / 1e6);
    const wallS = (end - t0) / 1e6;
    const serverCpu = cpuDeltaMicros(cpu0, cpu1);
    const membersPerMsg = figures.expectedDeliveries / Math.max(1, figures.sent - figures.sendErrors);
    return {
      workload: plan.workload,
      system: system.name,
      offeredRate: plan.closedLoop ? 0 : plan.rate,
      mode: plan.closedLoop ? 'closed' : 'open',
      durationMs: plan.durationMs,
      clients: clients.length,
      rooms: plan.rooms.length,
      senders: plan.senders.length,
      figures,
      deliveredMsgsPerSec: round1(figures.deliveries / membersPerMsg / windowS),
      deliveriesPerSec: round1(figures.deliveries / windowS),
      ackedMsgsPerSec: round1(figures.acked / Math.max(1e-6, (tracker.lastAckMicros - t0) / 1e6)),
      drained,
      drainMs: Math.round((end - sendEnd) / 1000),
      serverCpuMs: Math.round(serverCpu / 1000),
      serverCpuPctOfCore: round1((serverCpu / 1e6 / wallS) * 100),
      cpuMicrosPerDelivery: figures.deliveries > 0 ? round2(serverCpu / figures.deliveries) : NaN,
      serverCpuMsByProcess: byProcess,
      syscallsPerDelivery: figures.deliveries > 0 ? round2(syscalls / figures.deliveries) : NaN,
      peerCallsPerMessage: calls0 !== undefined && calls1 !== undefined && figures.acked > 0 ? round2((calls1 - calls0) / figures.acked) : NaN,
      loadGenCpuPctOfCore: round1(((own.user + own.system) / 1e6 / wallS) * 100),
      loadGenSystemCpuPctOfCore: round1((own.system / 1e6 / wallS) * 100),
      loadGenMaxLagMs: round1(lag.maxMicros / 1000),
      loadGenP99LagMs: round1(lag.p99Micros / 1000),
      loadavgBefore: load0,
      loadavgAfter: loadavg1(),
      ...protocolErrorsOf(clients),
      serverDied: system.serverPids.map((pid, i) => (processAlive(pid) ? '' : system.serverRoles[i] ?? String(pid))).filter(Boolean),
    };
  } finally {
    for (const c of clients) c.close();
    // Give the servers a moment to process the disconnects outside the next measurement.
    await sleep(300);
  }
}

/**
 * Open loop: message k is due at t0 + k/rate, senders in turn; the loop never waits for acks.
 * Returns how late the sends were against that schedule (the load generator keeping up).
 */
async function driveOpenLoop(rate: number, total: number, senders: number, t0: number, sendOne: (s: number, t: number) => boolean): Promise<{ maxMicros: number; p99Micros: number }> {
  const intervalMicros = 1e6 / rate;
  let next = 0;
  let maxLag = 0;
  const lagHist = createHistogram();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = nowMicros();
      const due = Math.min(total, Math.floor((now - t0) / intervalMicros) + 1);
      for (; next < due; next++) {
        const t = nowMicros();
        const lag = t - (t0 + next * intervalMicros);
        if (lag > maxLag) maxLag = lag;
        lagHist.record(Math.max(1, Math.round(lag)));
        sendOne(next % senders, t);
      }
      if (next >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  return { maxMicros: maxLag, p99Micros: lagHist.percentile(99) };
}

/**
 * Closed loop: every sender sends once, then again each time its previous message is acknowledged
 * (or refused), until durationMs has passed. A system that stops acknowledging ends the loop after
 * durationMs + drainTimeoutMs (the run is then incomplete, not hung). There is no schedule, so
 * the lag is the time from an ack to the next send (the load generator's own delay).
 */
async function driveClosedLoop(
  tracker: Tracker,
  senders: number,
  t0: number,
  durationMs: number,
  drainTimeoutMs: number,
  sendOne: (s: number, t: number) => boolean,
): Promise<{ maxMicros: number; p99Micros: number }> {
  const stopAt = t0 + durationMs * 1000;
  let active = senders;
  let maxLag = 0;
  const lagHist = createHistogram();
  await new Promise<void>((resolve) => {
    const guard = setTimeout(resolve, durationMs + drainTimeoutMs);
    const retire = (): void => {
      if (--active === 0) {
        clearTimeout(guard);
        resolve();
      }
    };
    const next = (s: number, ackedAt: number): void => {
      const t = nowMicros();
      if (ackedAt > 0) {
        const lag = t - ackedAt;
        if (lag > maxLag) maxLag = lag;
        lagHist.record(Math.max(1, Math.round(lag)));
      }
      if (t >= stopAt || !sendOne(s, t)) retire();
    };
    tracker.ackListener = (s) => next(s, nowMicros());
    for (let s = 0; s < senders; s++) next(s, 0);
  });
  tracker.ackListener = null;
  return { maxMicros: maxLag, p99Micros: lagHist.count ? lagHist.percentile(99) : 0 };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Workload 1: one room, `members` clients spread over the nodes, `sendersPerNode` senders on each. */
export function fanoutPlan(opts: { rate: number; durationMs: number; drainTimeoutMs: number; members: number; sendersPerNode: number; nodes?: number }): TrafficPlan {
  const nodes = opts.nodes ?? 3;
  const clientNode = Array.from({ length: opts.members }, (_, i) => i % nodes);
  const senders = Array.from({ length: Math.min(opts.members, opts.sendersPerNode * nodes) }, (_, i) => i);
  return {
    workload: 'fanout',
    clientNode,
    rooms: [{ creator: 0, members: clientNode.map((_, i) => i) }],
    senders,
    rate: opts.rate,
    durationMs: opts.durationMs,
    drainTimeoutMs: opts.drainTimeoutMs,
  };
}

/**
 * `rooms` rooms of `membersPerRoom` clients: room r is created by its first member on node
 * r mod `nodes` (3), its other members on the following nodes, so admins and members spread out.
 */
export function spreadRooms(opts: { rooms: number; membersPerRoom: number; nodes?: number }): Pick<TrafficPlan, 'clientNode' | 'rooms'> {
  const nodes = opts.nodes ?? 3;
  const clientNode: number[] = [];
  const rooms: { creator: number; members: number[] }[] = [];
  for (let r = 0; r < opts.rooms; r++) {
    const members: number[] = [];
    for (let m = 0; m < opts.membersPerRoom; m++) {
      members.push(clientNode.length);
      clientNode.push((r + m) % nodes);
    }
    rooms.push({ creator: members[0], members });
  }
  return { clientNode, rooms };
}

/**
 * Workload 2: `rooms` rooms of `membersPerRoom`, administrators spread over the nodes (room r on
 * node r mod 3) and each room's members spread too; every member sends at `perMemberRate`.
 */
export function manyRoomsPlan(opts: { rooms: number; membersPerRoom: number; perMemberRate: number; durationMs: number; drainTimeoutMs: number; nodes?: number }): TrafficPlan {
  const { clientNode, rooms } = spreadRooms(opts);
  const senders = clientNode.map((_, i) => i);
  return {
    workload: 'many-rooms',
    clientNode,
    rooms,
    senders,
    rate: opts.perMemberRate * senders.length,
    durationMs: opts.durationMs,
    drainTimeoutMs: opts.drainTimeoutMs,
  };
}

/**
 * Closed loop: one room of `senders` members spread over the nodes (client i on node i mod 3),
 * created by client 0 (node 1 administers it), every member a sender keeping one message in flight.
 */
export function closedLoopPlan(opts: { senders: number; durationMs: number; drainTimeoutMs: number; nodes?: number }): TrafficPlan {
  const nodes = opts.nodes ?? 3;
  const clientNode = Array.from({ length: opts.senders }, (_, i) => i % nodes);
  return {
    workload: 'closed-loop',
    clientNode,
    rooms: [{ creator: 0, members: clientNode.map((_, i) => i) }],
    senders: clientNode.map((_, i) => i),
    rate: 0,
    closedLoop: true,
    durationMs: opts.durationMs,
    drainTimeoutMs: opts.drainTimeoutMs,
  };
}
