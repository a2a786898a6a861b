/**
 * Hooks from shell commands, for running the scenarios against a real deployment: `{node}` in a
 * command is replaced by the node id (node1..) and also passed as CHAT_NODE in the environment.
 * E.g. --stop-cmd 'vagrant ssh {node} -c "sudo systemctl stop docker docker.socket"'.
 */
import { spawn } from 'node:child_process';
import type { ScenarioHooks } from './types';

export function commandHook(template: string, timeoutMs: number, write: (line: string) => void): (nodeId: string) => Promise<void> {
  return (nodeId) =>
    new Promise((resolve, reject) => {
      const command = template.split('{node}').join(nodeId);
      write(`$ ${command}`);
      const child = spawn('sh', ['-c', command], { env: { ...process.env, CHAT_NODE: nodeId }, stdio: ['ignore', 'pipe', 'pipe'] });
      const relay = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) write(`  | ${line}`);
      };
      child.stdout.on('data', relay);
      child.stderr.on('data', relay);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`${command}: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`${command}: exited with ${code ?? signal}${signal === 'SIGKILL' ? ` (killed after ${timeoutMs} ms)` : ''}`));
      });
    });
}

export function hooksFromCommands(
  cmds: { stop?: string; start?: string; update?: string; cut?: string; heal?: string },
  timeoutMs: number,
  write: (line: string) => void,
): ScenarioHooks {
  return {
    stopNode: cmds.stop ? commandHook(cmds.stop, timeoutMs, write) : undefined,
    startNode: cmds.start ? commandHook(cmds.start, timeoutMs, write) : undefined,
    updateNode: cmds.update ? commandHook(cmds.update, timeoutMs, write) : undefined,
    cutNode: cmds.cut ? commandHook(cmds.cut, timeoutMs, write) : undefined,
    healNode: cmds.heal ? commandHook(cmds.heal, timeoutMs, write) : undefined,
  };
}
