/**
 * A Node.js base image made locally, because no registry can be reached from the lab: a root
 * filesystem holding this machine's own `node` binary, a POSIX shell (for the Dockerfile's RUN
 * steps, as in the official image), the shared libraries `ldd` lists for them, and a `node` user
 * with the official image's uid. `docker import` turns it into an image in about a second.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from './run';

/** Uid/gid of the `node` user in the official node images: the Dockerfile's USER means the same here. */
const NODE_UID = 1000;

export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run(['ldd', binary]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m) libs.push(m[1]);
  }
  if (libs.length === 0) throw new Error(`ldd ${binary} listed no libraries:\n${stdout}`);
  return libs;
}

function copyInto(rootfs: string, source: string, target = source): void {
  const dest = path.join(rootfs, target);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(fs.realpathSync(source), dest); // symlinks resolved: the image needs the bytes
  fs.chmodSync(dest, fs.statSync(source).mode & 0o777);
}

/** Writes the root filesystem into `rootfs`; returns the files it holds. */
export async function stageNodeRootfs(rootfs: string, extraBinaries: string[] = []): Promise<string[]> {
  const node = fs.realpathSync((await run(['sh', '-c', 'command -v node'])).stdout.trim());
  const sh = fs.realpathSync('/bin/sh');
  const files = new Set<string>();
  copyInto(rootfs, node, '/usr/local/bin/node');
  copyInto(rootfs, sh, '/bin/sh');
  files.add('/usr/local/bin/node').add('/bin/sh');
  for (const binary of [node, sh, ...extraBinaries]) {
    for (const lib of await sharedLibraries(binary)) {
      if (!files.has(lib)) copyInto(rootfs, lib);
      files.add(lib);
    }
  }
  const etc = path.join(rootfs, 'etc');
  fs.mkdirSync(etc, { recursive: true });
  fs.writeFileSync(path.join(etc, 'passwd'), `root:x:0:0:root:/root:/bin/sh\nnode:x:${NODE_UID}:${NODE_UID}::/home/node:/bin/sh\n`);
  fs.writeFileSync(path.join(etc, 'group'), `root:x:0:\nnode:x:${NODE_UID}:\n`);
  fs.mkdirSync(path.join(rootfs, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.mkdirSync(path.join(rootfs, 'home/node'), { recursive: true });
  fs.chownSync(path.join(rootfs, 'home/node'), NODE_UID, NODE_UID);
  return [...files, '/etc/passwd', '/etc/group'];
}

/**
 * Imports the staged root filesystem as `tag` into the engine at `dockerHost`. Extra binaries
 * (for example native addons in node_modules) bring their libraries along.
 */
export async function importNodeBaseImage(opts: { dockerHost: string; workDir: string; tag: string; extraBinaries?: string[] }): Promise<void> {
  const rootfs = path.join(opts.workDir, 'rootfs');
  const tarball = path.join(opts.workDir, 'node-base.tar');
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.mkdirSync(rootfs, { recursive: true });
  await stageNodeRootfs(rootfs, opts.extraBinaries);
  await run(['tar', '-C', rootfs, '--numeric-owner', '-cf', tarball, '.'], { timeoutMs: 60_000 });
  await run(
    [
      'docker', 'import',
      '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change', 'CMD ["node"]',
      tarball, opts.tag,
    ],
    { env: { ...process.env, DOCKER_HOST: opts.dockerHost }, timeoutMs: 120_000 },
  );
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.rmSync(tarball, { force: true });
}
