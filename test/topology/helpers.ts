import { App } from 'cdktf';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');

/** A fresh temporary folder, removed by `cleanupTempDirs()` (call it in afterAll). */
const made: string[] = [];
export function tempDir(prefix = 'swarm-chat-synth-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Builds an app into a temp outdir with `build`, synthesizes it, and returns the outdir. */
export function synthApp(build: (app: App) => void, outdir = tempDir()): string {
  const app = new App({ outdir });
  build(app);
  app.synth();
  return outdir;
}

/** Every file under `dir` as `{ "rel/path": content }`, sorted; the cdktf-owned cdk.tf.json is left out. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name !== 'cdk.tf.json') out[path.relative(dir, full).split(path.sep).join('/')] = fs.readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

export function stackDir(outdir: string, stackId: string): string {
  return path.join(outdir, 'stacks', stackId);
}

/** True when `tool` is on PATH. A missing validator is reported loudly, never silently passed. */
export function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn(`\n*** SKIPPED: "${tool}" is not installed, so its validation of the synthesized files did not run. ` +
      `.ci/run installs it; install it locally to run these checks. ***\n`);
    return false;
  }
}

/**
 * `docker stack config` appeared in Docker CLI 23; Debian 12's docker.io client (20.10) lacks it and
 * prints the generic `docker stack` help instead, so the subcommand's own help is what is checked.
 */
export function hasDockerStackConfig(): boolean {
  if (!hasTool('docker')) return false;
  let help = '';
  try {
    help = execFileSync('docker', ['stack', 'config', '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    // fall through: treated as missing
  }
  if (help.includes('--compose-file')) return true;
  console.warn('\n*** SKIPPED: this docker client has no "docker stack config" (Docker CLI 23+ needed; Debian 12 docker.io is 20.10), ' +
    'so the stack file was not validated. Put a newer docker CLI first on PATH. ***\n');
  return false;
}
