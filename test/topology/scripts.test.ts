import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { addDemoStack } from '../../stacks/demo';
import { cleanupTempDirs, stackDir, synthApp, tempDir } from './helpers';

/** The generated scripts' own behaviour, run for real where no VM or engine is needed. */
const dir = stackDir(synthApp((app) => addDemoStack(app)), 'demo');
afterAll(cleanupTempDirs);

const bash = (script: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync('bash', [path.join(dir, script), ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });

// An engine address that answers nothing: the docker client fails at once.
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', ENGINE_WAIT_SECONDS: '0', SWARM_WAIT_SECONDS: '0' };

describe('provision/hosts.sh', () => {
  it('lists every node once, keeps other entries, and replaces its block when re-run', () => {
    const hosts = path.join(tempDir(), 'hosts');
    fs.writeFileSync(hosts, '127.0.0.1 localhost\n');
    for (let i = 0; i < 2; i++) expect(bash('provision/hosts.sh', [], { HOSTS_FILE: hosts }).status).toBe(0);
    expect(fs.readFileSync(hosts, 'utf8')).toBe(
      '127.0.0.1 localhost\n# BEGIN swarm-chat nodes\n192.168.56.101 chat-node1\n192.168.56.102 chat-node2\n192.168.56.103 chat-node3\n# END swarm-chat nodes\n',
    );
  });
});

describe('swarm scripts', () => {
  it('swarm-init.sh and swarm-join.sh demand the address to advertise', () => {
    for (const script of ['provision/swarm-init.sh', 'provision/swarm-join.sh']) {
      const r = bash(script, []);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`usage: ${path.basename(script)} <advertise-ip>`);
    }
  });

  it('swarm-join.sh names the engine it could not reach', () => {
    const r = bash('provision/swarm-join.sh', ['192.168.56.102'], NO_ENGINE);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: the Docker engine did not answer within 0s (DOCKER_HOST=unix:///nonexistent/docker.sock)');
  });

  it('setup-swarm.sh gives up after its bound and names the nodes that are not Ready', () => {
    const r = bash('scripts/setup-swarm.sh', [], NO_ENGINE);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: not Ready after 0s: chat-node1 chat-node2 chat-node3');
  });
});

describe('scripts/change-topology.sh', () => {
  it('names the engine it could not reach instead of guessing the stack is down', () => {
    const r = bash('scripts/change-topology.sh', [], NO_ENGINE);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: the swarm manager's engine did not answer (DOCKER_HOST=unix:///nonexistent/docker.sock); run this on the manager");
  });
});

describe('scripts/run-scenarios.sh', () => {
  it('rejects an unknown scenario before doing anything', () => {
    const r = bash('scripts/run-scenarios.sh', ['chaos']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: unknown scenario 'chaos'; expected normal, failure, rolling or all");
  });
});
