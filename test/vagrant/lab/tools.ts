/**
 * The programs the `vagrant up` run needs, installed from the distribution when missing (CI's
 * .ci/run installs them up front). When one cannot be had, the error names the step, the program
 * and the package, so a machine where the run cannot work says exactly what is missing and why.
 */
import { execFileSync } from 'node:child_process';
import { run } from '../../swarm/lab/run';

/** program -> Debian package and what the run uses it for. */
export const REQUIRED_TOOLS: { program: string; pkg: string; why: string }[] = [
  { program: 'vagrant', pkg: 'vagrant', why: 'vagrant up/ssh/destroy (its Docker provider is built in)' },
  { program: 'dockerd', pkg: 'docker.io', why: "the Docker provider's engine" },
  { program: 'debootstrap', pkg: 'debootstrap', why: 'the machine image without a registry' },
  { program: 'iptables', pkg: 'iptables', why: "dockerd's NAT and the teardown of its rules" },
  { program: 'ip', pkg: 'iproute2', why: "the lab engine's bridge" },
];

function has(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    return true;
  } catch {
    return false;
  }
}

export async function ensureTools(say: (line: string) => void): Promise<void> {
  const missing = REQUIRED_TOOLS.filter((t) => !has(t.program));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  say(`missing: ${missing.map((t) => t.program).join(', ')}; apt-get install ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs];
  let r = await run(install, { env, timeoutMs: 600_000, allowFailure: true });
  if (r.code !== 0) {
    await run(['apt-get', 'update', '-qq'], { env, timeoutMs: 300_000, allowFailure: true });
    r = await run(install, { env, timeoutMs: 600_000, allowFailure: true });
  }
  const still = missing.filter((t) => !has(t.program));
  if (still.length > 0) {
    throw new Error(
      `step "tools": cannot run without ${still.map((t) => `${t.program} (package ${t.pkg}: ${t.why})`).join('; ')}; ` +
        `apt-get install failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`,
    );
  }
}
