/** Shapes shared by the demo scenarios (normal operation, node failure, rolling update). */

/** One chat node as the scenarios see it: its id (node1..), WebSocket URL and health URL. */
export interface NodeTarget {
  id: string;
  wsUrl: string;
  healthUrl: string;
}

/**
 * What the scenarios cannot do themselves: act on the deployment. The CLI makes these from shell
 * commands (`--stop-cmd` ...); the CI lab passes functions that act on its engines.
 */
export interface ScenarioHooks {
  /** Stops the node's host engine (a node failure), returning when the command has finished. */
  stopNode?: (nodeId: string) => Promise<void>;
  startNode?: (nodeId: string) => Promise<void>;
  /** Replaces the node's service with the new image (e.g. `docker service update --image chat-node:v2`). */
  updateNode?: (nodeId: string) => Promise<void>;
  /** Cuts the node's host off the network (its processes keep running): a partition, no goodbye. */
  cutNode?: (nodeId: string) => Promise<void>;
  healNode?: (nodeId: string) => Promise<void>;
}

export interface ScenarioSettings {
  /** The node failure must be reported to the others within this time (node's heartbeat settings + margin). */
  failureDetectionMs: number;
  /** How long a stopped or replaced node may take to answer /healthz again. */
  recoveryTimeoutMs: number;
  /** A client whose node stays up must get every reply within this time, also while a peer is down. */
  maxStallMs: number;
  /** Pause between two messages of one chatting client during the failure and rolling scenarios. */
  chatIntervalMs: number;
  /** Messages each client sends into each room in the normal scenario. */
  messagesPerRoom: number;
}

export const DEFAULT_SETTINGS: ScenarioSettings = {
  // The node's defaults detect a dead peer after 3 missed 1 s heartbeats (0.8 s timeout each).
  failureDetectionMs: 15_000,
  recoveryTimeoutMs: 120_000,
  maxStallMs: 3_000,
  chatIntervalMs: 250,
  messagesPerRoom: 10,
};

export type ScenarioName = 'normal' | 'failure' | 'partition' | 'rolling';
export const SCENARIO_NAMES: readonly ScenarioName[] = ['normal', 'failure', 'partition', 'rolling'];

export interface ScenarioResult {
  name: ScenarioName;
  /** 'skipped' only when the scenario cannot run with what it was given (e.g. no stop command). */
  status: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  /** Figures for the report, in the order they were measured. */
  figures: Record<string, string | number>;
  /** Each broken expectation, in words. Empty when passed. */
  problems: string[];
  /** Narrative lines: what was done and what was seen, for the printed report. */
  log: string[];
}
