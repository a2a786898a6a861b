/**
 * What the lab needs to know about the synthesized deployment, read from the synthesized files
 * themselves (the lab tests those files): the VMs from the Vagrantfile, the published ports and
 * WebSocket URLs from demo.env. The subnet comes from stacks/lab.ts, the one place it is chosen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LabVm {
  name: string;
  hostname: string;
  ip: string;
  role: 'manager' | 'worker';
  wsUrl: string;
}

export function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return env;
}

export function readLabVms(stackDir: string): LabVm[] {
  const vagrantfile = fs.readFileSync(path.join(stackDir, 'Vagrantfile'), 'utf8');
  const env = readEnvFile(path.join(stackDir, 'demo.env'));
  const vms: LabVm[] = [];
  const re = /\{\s*name:\s*"([^"]+)",\s*hostname:\s*"([^"]+)",\s*ip:\s*"([^"]+)",\s*role:\s*"(manager|worker)"/g;
  for (let m = re.exec(vagrantfile); m; m = re.exec(vagrantfile)) {
    const key = m[1].toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const wsUrl = env[`${key}_WS_URL`];
    if (!wsUrl) throw new Error(`demo.env in ${stackDir} has no ${key}_WS_URL for VM ${m[1]}`);
    vms.push({ name: m[1], hostname: m[2], ip: m[3], role: m[4] as LabVm['role'], wsUrl });
  }
  if (vms.length === 0) throw new Error(`no VMs found in ${path.join(stackDir, 'Vagrantfile')}`);
  if (vms.filter((v) => v.role === 'manager').length !== 1) throw new Error('the Vagrantfile must define exactly one manager');
  return vms;
}

/** Every file below `dir` (dotfiles such as .vagrant/ left out) as { relative path: content }. */
export function readTree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (!skip(rel)) out[rel] = fs.readFileSync(path.join(dir, rel), 'utf8');
    }
  };
  walk('');
  return out;
}

/**
 * Maps every lab value back to the demo's and lists the files that still differ: the lab may
 * differ from the demo only in the values given (the subnet and the addresses that follow from it).
 */
export function differencesBeyond(demo: Record<string, string>, lab: Record<string, string>, labToDemo: [string, string][]): string[] {
  const problems: string[] = [];
  const files = new Set([...Object.keys(demo), ...Object.keys(lab)]);
  // Longest first, so an address is never half-replaced by a shorter value it contains.
  const pairs = [...labToDemo].sort((a, b) => b[0].length - a[0].length);
  for (const f of [...files].sort()) {
    if (!(f in demo)) problems.push(`${f}: only in the lab output`);
    else if (!(f in lab)) problems.push(`${f}: only in the demo output`);
    else {
      const mapped = pairs.reduce((text, [from, to]) => text.split(from).join(to), lab[f]);
      if (mapped !== demo[f]) {
        const a = mapped.split('\n');
        const b = demo[f].split('\n');
        const line = a.findIndex((l, i) => l !== b[i]);
        problems.push(`${f}:${line + 1}: lab "${a[line]}" vs demo "${b[line]}"`);
      }
    }
  }
  return problems;
}
