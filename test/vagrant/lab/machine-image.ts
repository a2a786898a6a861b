/**
 * The Docker provider's machine image, made offline: no registry is reachable here, so the base is
 * a Debian root file system from this machine's own Debian mirror (debootstrap, `docker import`),
 * and the synthesized `docker-vm/Dockerfile` builds on it. The result is saved to a cache folder
 * on disk, named by the image tag and a hash of what went into it, and loaded from there when
 * present (the lab engine's data lives on a tmpfs that goes away with each run).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../../swarm/lab/run';
import { HostEngine } from './host-engine';

/** Where Debian's and HashiCorp's Vagrant packages keep Vagrant's insecure public key. */
const VAGRANT_KEY_GLOB_ROOTS = ['/usr/share/rubygems-integration/all/gems', '/opt/vagrant/embedded/gems/gems', '/opt/vagrant/embedded/gems'];

export function vagrantPublicKey(): string {
  for (const root of VAGRANT_KEY_GLOB_ROOTS) {
    if (!fs.existsSync(root)) continue;
    for (const gem of fs.readdirSync(root).filter((d) => /^vagrant-\d/.test(d)).sort().reverse()) {
      const keys = path.join(root, gem, 'keys');
      if (!fs.existsSync(keys)) continue;
      const lines = fs.readdirSync(keys).filter((f) => f.startsWith('vagrant.pub')).sort()
        .flatMap((f) => fs.readFileSync(path.join(keys, f), 'utf8').split('\n')).map((l) => l.trim()).filter(Boolean);
      if (lines.length > 0) return [...new Set(lines)].join('\n');
    }
  }
  throw new Error(`machine image: Vagrant's insecure public key (keys/vagrant.pub) not found under ${VAGRANT_KEY_GLOB_ROOTS.join(', ')}; install Vagrant (apt-get install vagrant)`);
}

/** The first Debian mirror apt uses here (deb822 sources first, then sources.list). */
export function debianMirror(): string {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (fs.existsSync(deb822)) {
    const m = /^URIs:\s*(\S+)/m.exec(fs.readFileSync(deb822, 'utf8'));
    if (m) return m[1];
  }
  if (fs.existsSync('/etc/apt/sources.list')) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+main/m.exec(fs.readFileSync('/etc/apt/sources.list', 'utf8'));
    if (m) return m[1];
  }
  throw new Error('machine image: no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; debootstrap needs one');
}

export function debianSuite(): string {
  const m = /^VERSION_CODENAME=(\S+)/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
  if (!m) throw new Error('machine image: /etc/os-release names no VERSION_CODENAME; debootstrap needs a suite');
  return m[1];
}

export interface MachineImageOptions {
  engine: HostEngine;
  tag: string;
  /** The synthesized docker-vm folder (its Dockerfile). */
  dockerfileDir: string;
  cacheDir: string;
  /** Scratch space for the root file system (on the lab's tmpfs). */
  workDir: string;
  say: (line: string) => void;
}

export interface MachineImageResult {
  source: 'cache' | 'built';
  cacheFile: string;
  /** Each part's duration, for the timing summary. */
  timings: Record<string, number>;
}

export async function ensureMachineImage(opts: MachineImageOptions): Promise<MachineImageResult> {
  const key = vagrantPublicKey();
  const mirror = debianMirror();
  const suite = debianSuite();
  const dockerfile = fs.readFileSync(path.join(opts.dockerfileDir, 'Dockerfile'), 'utf8');
  const hash = createHash('sha256').update(`${dockerfile}\0${key}\0${mirror}\0${suite}`).digest('hex').slice(0, 12);
  const stem = opts.tag.replace(/[^a-zA-Z0-9.-]+/g, '-');
  const cacheFile = path.join(opts.cacheDir, `${stem}-${hash}.tar`);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[name] = Date.now() - t0;
    }
  };

  if (fs.existsSync(cacheFile)) {
    await timed('load from cache', () => opts.engine.docker(['load', '-q', '-i', cacheFile], { timeoutMs: 300_000 }));
    opts.say(`machine image ${opts.tag} loaded from ${cacheFile}`);
    return { source: 'cache', cacheFile, timings };
  }

  const rootfs = path.join(opts.workDir, 'rootfs');
  const baseTag = `swarm-chat/debian-minbase:${suite}`;
  fs.rmSync(rootfs, { recursive: true, force: true });
  opts.say(`machine image ${opts.tag}: not cached (${cacheFile}); debootstrap ${suite} from ${mirror}`);
  await timed('debootstrap', () => run(['debootstrap', '--variant=minbase', suite, rootfs, mirror], { timeoutMs: 900_000 }));
  await timed('docker import', () =>
    run(['sh', '-c', 'tar -C "$1" --numeric-owner -c . | docker import - "$2"', 'import', rootfs, baseTag], { env: opts.engine.env(), timeoutMs: 300_000 }));
  fs.rmSync(rootfs, { recursive: true, force: true });

  // The build's RUN steps reach the mirror with the machine's own network and name resolution.
  const mirrorHost = new URL(mirror).hostname;
  const resolved = (await run(['getent', 'hosts', mirrorHost], { allowFailure: true })).stdout.trim().split(/\s+/)[0];
  const addHost = resolved ? ['--add-host', `${mirrorHost}:${resolved}`] : [];
  await timed('docker build docker-vm/Dockerfile', () =>
    opts.engine.docker(
      ['build', '-q', '--network', 'host', ...addHost, '--build-arg', `BASE_IMAGE=${baseTag}`, '--build-arg', `VAGRANT_PUBLIC_KEY=${key}`, '-t', opts.tag, opts.dockerfileDir],
      { timeoutMs: 900_000 },
    ));

  fs.mkdirSync(opts.cacheDir, { recursive: true });
  for (const old of fs.readdirSync(opts.cacheDir).filter((f) => f.startsWith(`${stem}-`) && f.endsWith('.tar'))) fs.rmSync(path.join(opts.cacheDir, old));
  const partial = `${cacheFile}.partial`;
  await timed('save to cache', () => opts.engine.docker(['save', '-o', partial, opts.tag], { timeoutMs: 300_000 }));
  fs.renameSync(partial, cacheFile);
  opts.say(`machine image ${opts.tag} built and cached at ${cacheFile} (${(fs.statSync(cacheFile).size / 1e6).toFixed(0)} MB)`);
  return { source: 'built', cacheFile, timings };
}
