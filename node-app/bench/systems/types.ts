/** What the harness needs from a system under test, whichever it is. */

/**
 * ours-mem: our cluster without DATA_DIR (replicated in memory), to show what durability costs;
 * ours-offloop: with DATA_DIR and REPL_SYNC=full (the WAL's fdatasync off the event loop), to
 * measure against the default fsync inside each commit;
 * ours-base: `ours` run from another build of the project (`--baseline DIR`), to measure a change
 * against the code before it in one run (a shared machine's noise falls on both alike).
 */
export type SystemName = 'ours' | 'ours-mem' | 'ours-offloop' | 'ours-base' | 'socketio' | 'ws';
export const SYSTEM_NAMES: readonly SystemName[] = ['ours', 'ours-mem', 'ours-offloop', 'ours-base', 'socketio', 'ws'];

/** Which client the load generator uses: our WebSocket protocol, or Socket.IO events. */
/** Which client the load generator uses: our WebSocket protocol, Socket.IO on the wire, or socket.io-client. */
export type ClientProtocol = 'swarmchat' | 'socketio' | 'socketio-lib';

export interface RunningSystem {
  name: SystemName;
  label: string;
  protocol: ClientProtocol;
  /** One URL per node; the single-process ceiling repeats its URL so workloads stay identical. */
  nodeUrls: string[];
  /** One pid per node (same order as nodeUrls). */
  nodePids: number[];
  /** Every process whose CPU is the system's cost (the nodes, and Redis for Socket.IO). */
  serverPids: number[];
  /** A name per serverPids entry (node1.., redis), for the per-process CPU split. */
  serverRoles: string[];
  /** True when every receiver can check a room-wide sequence (not only per-sender order). */
  roomTotalOrder: boolean;
  /** Cores the servers were pinned to, or null. */
  pinnedTo: string | null;
  /** How the system was configured, for the report. */
  notes: string[];
  /**
   * Node-to-node calls made so far, summed over the nodes (ours: `swarmchat_peer_calls_total` of
   * each node's /metrics); absent for systems whose nodes do not call each other that way.
   */
  peerCalls?(): Promise<number>;
  /** The end of a server process's log, when the system keeps one (for a process that died). */
  logTail?(role: string): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  serverCores: string | null;
  /** Scratch folder for logs and data; removed by the caller. */
  workDir: string;
}

export interface BenchSystem {
  name: SystemName;
  label: string;
  start(opts: StartOptions): Promise<RunningSystem>;
}
