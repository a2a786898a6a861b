/** System (c): one raw `ws` process, the ceiling for what a single Node process can fan out. */
import * as path from 'node:path';
import { pinProcess } from '../measure/proc';
import { spawnReady } from './child';
import { BenchSystem, RunningSystem, StartOptions } from './types';

export const wsCeiling: BenchSystem = {
  name: 'ws',
  label: 'raw ws (1 process, ceiling)',
  async start(opts: StartOptions): Promise<RunningSystem> {
    const server = await spawnReady({
      label: 'ws ceiling server',
      command: process.execPath,
      args: [path.join(distBenchDir(), 'servers', 'ws-ceiling-node.js')],
      env: { PORT: '0', HOST: '127.0.0.1' },
    });
    const pinned = pinProcess(server.pid, opts.serverCores).ok ? opts.serverCores : null;
    const url = `ws://127.0.0.1:${String(server.ready.port)}`;
    return {
      name: 'ws',
      label: this.label,
      protocol: 'swarmchat',
      nodeUrls: [url, url, url],
      nodePids: [server.pid, server.pid, server.pid],
      serverPids: [server.pid],
      serverRoles: ['ws'],
      roomTotalOrder: true,
      pinnedTo: pinned,
      notes: ['one process; the three "nodes" of each workload are the same process'],
      stop: () => server.stop(),
    };
  },
};

/**
 * The compiled bench folder: servers always run as compiled JS (also when the harness itself runs
 * under ts-jest), like every integration test of this repository.
 */
export function distBenchDir(): string {
  const here = __dirname;
  const marker = `${path.sep}dist${path.sep}`;
  if (here.includes(marker)) return path.resolve(here, '..');
  return path.resolve(here, '..', '..', '..', 'dist', 'node-app', 'bench');
}
