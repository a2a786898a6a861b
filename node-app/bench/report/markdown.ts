/** The human-readable report of one run: Markdown tables with the issue's ratios. */
import type { BenchResult } from '../run';
import type { TrafficResult } from '../workloads/traffic';
import {
  CLOSED_LOOP_TARGET_MSGS_PER_SEC,
  closedLoopRows,
  compareRates,
  CPU_PER_DELIVERY_TARGET_RATIO,
  cpuPerDeliveryRatio,
  cpuPerDeliveryRows,
  IDLE_TARGET_PCT_OF_CORE,
  idleMeetsTarget,
  mergedFanout,
  MergedStep,
  SUSTAINED_P99_MS,
  verdict,
} from './summary';

const NAMES: Record<string, string> = { ours: 'swarm-chat', 'ours-mem': 'swarm-chat, no disk', 'ours-offloop': 'swarm-chat, sync off the event loop', 'ours-base': 'swarm-chat, baseline build', socketio: 'Socket.IO+Redis', ws: 'raw ws' };

function n(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x >= 100 ? String(Math.round(x)) : x.toFixed(digits);
}

function yesNo(b: boolean | null | undefined): string {
  return b === null || b === undefined ? '–' : b ? 'yes' : '**no**';
}

/** The load generator may have limited this step: near a full core, or often late on its send schedule. */
export function loadGenSuspect(r: TrafficResult): boolean {
  return r.loadGenCpuPctOfCore > 85 || r.loadGenP99LagMs > 50;
}

function trafficTable(rows: (TrafficResult | MergedStep)[]): string[] {
  const repeated = rows.some((r) => 'runs' in r && r.runs > 1);
  const out = [
    `| system | offered msg/s | delivered msg/s | deliveries/s | e2e p50 / p99 / max ms |${repeated ? ' p99 of each run |' : ''} ack p50 / p99 ms | complete | in order | server µs/delivery | server CPU % core | load-gen CPU % core | load avg |`,
    `|---|---:|---:|---:|---|${repeated ? '---|' : ''}---|---|---|---:|---:|---:|---:|`,
  ];
  for (const r of rows) {
    const runsCol = repeated ? ` ${'p99Runs' in r ? r.p99Runs.map((x) => n(x)).join(', ') : '–'} |` : '';
    const f = r.figures;
    const complete = f.complete ? 'yes' : `**no** (${f.missingDeliveries} of ${f.expectedDeliveries} missing${f.sendErrors ? `, ${f.sendErrors} send errors` : ''}${r.drained ? '' : ', not drained'})`;
    const order = f.inOrder ? 'yes' : `**no** (${f.senderOrderViolations} sender / ${f.roomOrderViolations} room)`;
    out.push(
      `| ${NAMES[r.system] ?? r.system} | ${r.offeredRate} | ${n(r.deliveredMsgsPerSec)} | ${n(r.deliveriesPerSec, 0)} | ${n(f.e2e.p50Ms)} / ${n(f.e2e.p99Ms)} / ${n(f.e2e.maxMs)} |${runsCol} ${n(f.ack.p50Ms)} / ${n(f.ack.p99Ms)} | ${complete} | ${order} | ${n(r.cpuMicrosPerDelivery)} | ${n(r.serverCpuPctOfCore)} | ${n(r.loadGenCpuPctOfCore)}${loadGenSuspect(r) ? ' ⚠' : ''} | ${n(r.loadavgAfter, 2)} |`,
    );
  }
  return out;
}

export function renderMarkdown(result: BenchResult, chartFile?: string): string {
  const m = result.machine;
  const c = result.config;
  const lines: string[] = [];
  lines.push(`# Benchmark run ${result.startedAt}`);
  lines.push('');
  lines.push(
    `Machine: ${m.cores} cores (${m.cpuModel}), ${Math.round(m.totalMemBytes / 2 ** 30)} GiB, Node ${m.node}, ${m.platform}; ` +
      `load average at start ${m.loadavg.join(' / ')}. ` +
      (result.cores.serverCores
        ? `Servers pinned to core(s) ${result.cores.serverCores}, load generator to core ${result.cores.loadGenCores}${result.cores.loadGenPinned ? '' : ' (pinning failed)'}.`
        : 'Nothing pinned.'),
  );
  lines.push('');
  for (const [name, s] of Object.entries(result.systems)) {
    lines.push(`- **${NAMES[name] ?? name}** (${s.label}): ${s.notes.join('; ')}${s.pinnedTo ? `; pinned to ${s.pinnedTo}` : ''}.`);
  }
  lines.push('');
  const ran = (w: string): boolean => (c.workloads as string[]).includes(w);
  if (ran('fanout')) renderFanout(result, lines, chartFile);
  if (ran('cpu-per-delivery')) renderCpuPerDelivery(result, lines);
  if (ran('closed-loop')) renderClosedLoop(result, lines);
  if (ran('idle-rooms')) renderIdleRooms(result, lines);
  if (ran('many-rooms')) renderManyRooms(result, lines);
  if (ran('connections')) renderConnections(result, lines);
  if (result.errors.length) {
    lines.push('');
    lines.push('## Errors');
    lines.push('');
    for (const e of result.errors) lines.push(`- ${NAMES[e.system] ?? e.system} ${e.workload}: ${e.error.split('\n')[0]}`);
  }
  lines.push('');
  return lines.join('\n');
}

function renderFanout(result: BenchResult, lines: string[], chartFile?: string): void {
  const c = result.config;
  const v = verdict(result);
  lines.push(
    `## Fan-out: 1 room, ${c.fanout.members} members over 3 nodes, ${c.fanout.sendersPerNode} senders per node, ${c.fanout.stepMs / 1000} s per rate`,
  );
  lines.push('');
  const merged = mergedFanout(result);
  if (c.fanout.repeat > 1) {
    lines.push(
      `Each rate ran ${c.fanout.repeat} times per system (interleaved rounds); a row shows the run with the lowest p99 (other tenants of a shared machine only ever add latency), and is complete / in order only if every run was.`,
    );
    lines.push('');
  }
  lines.push(...trafficTable(merged));
  if (merged.some(loadGenSuspect)) {
    lines.push('');
    lines.push('⚠ = the load generator used over 85 % of its core or sent 1 % of its messages over 50 ms late: that step may be limited by it.');
  }
  for (const s of result.skipped.filter((x) => x.workload === 'fanout' && (x.repetition ?? 1) === 1)) {
    lines.push('');
    lines.push(`${NAMES[s.system] ?? s.system} at ${s.offeredRate} msg/s: not run (${s.reason}).`);
  }
  if (chartFile) {
    lines.push('');
    lines.push(`![end-to-end latency against offered load](${chartFile})`);
  }
  lines.push('');
  lines.push('### Where the time sits (fan-out)');
  lines.push('');
  lines.push('Node 1 holds the room\'s creator (our room\'s admin). Latency as p50 / p99 ms; server CPU in ms over the step, per process.');
  lines.push('');
  lines.push('| system | offered msg/s | e2e by receiver node 1 / 2 / 3 | ack by sender node 1 / 2 / 3 | server CPU ms by process | syscalls per delivery | peer calls per message |');
  lines.push('|---|---:|---|---|---|---:|---:|');
  const pair = (x: { p50Ms: number; p99Ms: number }): string => `${n(x.p50Ms)} / ${n(x.p99Ms)}`;
  for (const r of merged) {
    const f = r.figures;
    lines.push(
      `| ${NAMES[r.system] ?? r.system} | ${r.offeredRate} | ${f.e2eByReceiverNode.map(pair).join(' · ')} | ${f.ackBySenderNode.map(pair).join(' · ')} | ${Object.entries(r.serverCpuMsByProcess).map(([k, v]) => `${k} ${v}`).join(', ')} | ${n(r.syscallsPerDelivery, 2)} | ${n(r.peerCallsPerMessage, 2)} |`,
    );
  }
  lines.push('');
  lines.push('### Ratios');
  lines.push('');
  lines.push('| offered msg/s | swarm-chat p99 ms | Socket.IO p99 ms | raw ws p99 ms | ours / Socket.IO | ours / ws | target met | no-disk p99 ms | no-disk / Socket.IO |');
  lines.push('|---:|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const r of compareRates(result)) {
    lines.push(
      `| ${r.rate} | ${n(r.oursP99Ms)} | ${n(r.socketioP99Ms)} | ${n(r.wsP99Ms)} | ${n(r.p99RatioVsSocketio, 2)} | ${n(r.p99RatioVsWs, 2)} | ${yesNo(r.meetsTarget)} | ${n(r.oursMemP99Ms)} | ${n(r.oursMemRatioVsSocketio, 2)} |`,
    );
  }
  lines.push('');
  const sus = (name: string): string => (v.sustained[name] === undefined ? 'not run' : v.sustained[name] === null ? 'none' : `${v.sustained[name]} msg/s`);
  lines.push(
    `Highest offered rate with complete, in-order delivery and p99 < ${SUSTAINED_P99_MS} ms: swarm-chat ${sus('ours')}, ` +
      `swarm-chat without DATA_DIR ${sus('ours-mem')}, Socket.IO+Redis ${sus('socketio')}, raw ws ${sus('ws')}` +
      ` (ours / Socket.IO = ${n(v.sustainedRatioVsSocketio, 2)}, ours / raw ws = ${n(v.sustainedRatioVsWs, 2)}).`,
  );
  lines.push('');
  if (v.everyRateMeetsTarget !== null) {
    lines.push(
      v.shortfalls.length === 0
        ? 'Target met: at every offered rate our cluster delivered everything in order with a p99 no worse than Socket.IO\'s, and its highest sustained rate is at least theirs.'
        : `Target **not** met: ${v.shortfalls.join('; ')}.`,
    );
    lines.push('');
  }
}

function renderCpuPerDelivery(result: BenchResult, lines: string[]): void {
  const c = result.config;
  const fo = c.fanout;
  lines.push(`## Server CPU per delivery: the fan-out room (${fo.members} members, ${fo.sendersPerNode} senders per node) at ${c.cpuPerDelivery.rate} msg/s, ${c.cpuPerDelivery.stepMs / 1000} s, ${c.cpuPerDelivery.repeat} interleaved runs`);
  lines.push('');
  lines.push('CPU time of every server process (and Redis) from /proc (per-thread schedstat) over the step, divided by deliveries; the median of the runs.');
  lines.push('');
  lines.push('| system | µs per delivery (median) | each run | server CPU % core | e2e p50 / p99 ms | complete and in order (every run) |');
  lines.push('|---|---:|---|---:|---|---|');
  for (const row of cpuPerDeliveryRows(result)) {
    const runs = result.cpuPerDelivery.filter((r) => r.system === row.system);
    const cpu = runs.map((r) => r.serverCpuPctOfCore);
    const best = runs.reduce((a, b) => (b.figures.e2e.p99Ms < a.figures.e2e.p99Ms ? b : a));
    lines.push(
      `| ${NAMES[row.system] ?? row.system} | ${n(row.microsPerDelivery)} | ${row.runs.map((x) => n(x)).join(', ')} | ${cpu.map((x) => n(x)).join(', ')} | ${n(best.figures.e2e.p50Ms)} / ${n(best.figures.e2e.p99Ms)} | ${yesNo(row.completeInOrder)} |`,
    );
  }
  const { ratio, meetsTarget } = cpuPerDeliveryRatio(result);
  lines.push('');
  skippedLines(result, 'cpu-per-delivery', lines);
  if (ratio !== null) lines.push(`Ours / Socket.IO: **${n(ratio, 2)}x** (target ≤ ${CPU_PER_DELIVERY_TARGET_RATIO}x: ${meetsTarget ? 'met' : '**not met**'}).`);
  lines.push('');
}

function renderClosedLoop(result: BenchResult, lines: string[]): void {
  const c = result.config.closedLoop;
  lines.push(`## Closed loop: 1 room, ${c.senders} senders over 3 nodes (the room created on node 1), each waiting for its ack before the next, ${c.durationMs / 1000} s, ${c.repeat} interleaved runs`);
  lines.push('');
  lines.push('Acknowledged msg/s from the first send to the last ack; the row shows the run with the most (a shared machine only ever lowers it), complete / in order only if every run was.');
  lines.push('');
  lines.push('| system | acked msg/s | each run | ack p50 / p99 ms | e2e p50 / p99 ms | ack by sender node 1 / 2 / 3 (p50 / p99) | complete | in order | server µs/delivery | server CPU % core | load-gen CPU % core | load avg | target ≥ ' + CLOSED_LOOP_TARGET_MSGS_PER_SEC + ' |');
  lines.push('|---|---:|---|---|---|---|---|---|---:|---:|---:|---:|---|');
  for (const row of closedLoopRows(result)) {
    const r = row.best;
    const f = r.figures;
    const runs = result.closedLoop.filter((x) => x.system === row.system);
    const complete = runs.every((x) => x.drained && x.figures.complete) ? 'yes' : `**no** (${runs.reduce((s, x) => s + x.figures.missingDeliveries, 0)} missing, ${runs.reduce((s, x) => s + x.figures.sendErrors, 0)} refused)`;
    const order = runs.every((x) => x.figures.inOrder) ? 'yes' : `**no** (${runs.reduce((s, x) => s + x.figures.senderOrderViolations, 0)} sender / ${runs.reduce((s, x) => s + x.figures.roomOrderViolations, 0)} room)`;
    lines.push(
      `| ${NAMES[row.system] ?? row.system} | ${n(r.ackedMsgsPerSec)} | ${row.ackedRuns.map((x) => n(x)).join(', ')} | ${n(f.ack.p50Ms)} / ${n(f.ack.p99Ms)} | ${n(f.e2e.p50Ms)} / ${n(f.e2e.p99Ms)} | ${f.ackBySenderNode.map((x) => `${n(x.p50Ms)} / ${n(x.p99Ms)}`).join(' · ')} | ${complete} | ${order} | ${n(r.cpuMicrosPerDelivery)} | ${n(r.serverCpuPctOfCore)} | ${n(r.loadGenCpuPctOfCore)}${loadGenSuspect(r) ? ' ⚠' : ''} | ${n(r.loadavgAfter, 2)} | ${row.system.startsWith('ours') ? yesNo(row.meetsTarget) : '–'} |`,
    );
  }
  lines.push('');
  skippedLines(result, 'closed-loop', lines);
}

function skippedLines(result: BenchResult, workload: string, lines: string[]): void {
  for (const s of result.skipped.filter((x) => x.workload === workload)) lines.push(`${NAMES[s.system] ?? s.system}, run ${s.repetition ?? 1}: not run (${s.reason}).`, '');
}

function renderIdleRooms(result: BenchResult, lines: string[]): void {
  const c = result.config.idleRooms;
  lines.push(`## Idle rooms: ${c.rooms} rooms x ${c.membersPerRoom} members (spread over 3 nodes), nobody speaking, CPU over ${c.windowMs / 1000} s`);
  lines.push('');
  lines.push(`CPU % of one core per server process, on a fresh instance: first with no clients at all (over ${c.baselineMs / 1000} s), then with the rooms set up and idle. After the window each room gets one message, which every member must receive (rooms that went quiet must still wake up).`);
  lines.push('');
  lines.push(`| system | idle rooms: % core by process | no clients: % core by process | busiest node | set-up s | wake-up message | load avg | target ≤ ${IDLE_TARGET_PCT_OF_CORE} % per node |`);
  lines.push('|---|---|---|---:|---:|---|---:|---|');
  const pct = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  for (const r of result.idleRooms) {
    const p = r.probe;
    const wake = p.complete && p.inOrder ? `every member (p99 ${n(p.p99Ms)} ms)` : `**no** (${p.sendErrors} of ${p.sent} sends refused; ${p.deliveries} deliveries for ${p.expectedDeliveries} expected${p.inOrder ? '' : ', out of order'})`;
    lines.push(
      `| ${NAMES[r.system] ?? r.system} | ${pct(r.idlePctByProcess)} | ${pct(r.baselinePctByProcess)} | ${n(r.maxNodeIdlePct)} | ${n(r.setupSeconds)} | ${wake} | ${n(r.loadavgAfter, 2)} | ${r.system.startsWith('ours') ? yesNo(idleMeetsTarget(r)) : '–'} |`,
    );
  }
  lines.push('');
}

function renderManyRooms(result: BenchResult, lines: string[]): void {
  const c = result.config;
  lines.push(
    `## Many rooms: ${c.manyRooms.rooms} rooms x ${c.manyRooms.membersPerRoom} members, administrators and members spread over 3 nodes, every member sending ${c.manyRooms.perMemberRate} msg/s for ${c.manyRooms.durationMs / 1000} s`,
  );
  lines.push('');
  lines.push(...trafficTable(result.manyRooms));
  lines.push('');
}

function renderConnections(result: BenchResult, lines: string[]): void {
  lines.push('## Connections: idle clients on one node');
  lines.push('');
  lines.push('| system | held (and still answering) | RSS per connection | fresh client round trip at max | node RSS at max | stopped because |');
  lines.push('|---|---:|---:|---:|---:|---|');
  for (const r of result.connections) {
    const last = r.levels[r.levels.length - 1];
    lines.push(
      `| ${NAMES[r.system] ?? r.system} | ${r.maxHeld} | ${last ? `${n(last.bytesPerConnection / 1024)} KiB` : '–'} | ${last ? `${n(last.probeMs)} ms` : '–'} | ${last ? `${n(last.rssBytes / 2 ** 20)} MiB` : '–'} | ${r.stoppedBecause} |`,
    );
  }
}
