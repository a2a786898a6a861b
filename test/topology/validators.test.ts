import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildApp } from '../../stacks/main';
import { cleanupTempDirs, hasDockerStackConfig, hasTool, stackDir, tempDir } from './helpers';

/**
 * The real tools, on the real synthesized output of every stack. A missing tool is announced
 * loudly and its tests are skipped; .ci/run installs all three so CI always runs them.
 */
const STACKS = ['demo', 'five-nodes', 'lab', 'lab-grown', 'demo-docker', 'vagrant-lab'];
const outdir = tempDir();
buildApp(outdir).synth();
afterAll(cleanupTempDirs);

const run = (cmd: string, args: string[], cwd: string) => {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
      env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_NO_COLOR: '1', DOCKER_CLI_HINTS: 'false' },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
  }
};

const scripts = (dir: string) =>
  ['provision', 'scripts'].flatMap((sub) => fs.readdirSync(path.join(dir, sub)).map((f) => path.join(sub, f))).filter((f) => f.endsWith('.sh'));

(hasTool('shellcheck') ? describe : describe.skip)('shellcheck', () => {
  it.each(STACKS)('passes on every script of stack %s', (stack) => {
    const dir = stackDir(outdir, stack);
    expect(scripts(dir).length).toBe(9);
    run('shellcheck', ['--severity=style', '--shell=bash', ...scripts(dir)], dir);
  });
});

(hasTool('vagrant') ? describe : describe.skip)('vagrant validate', () => {
  it.each(STACKS)('accepts the Vagrantfile of stack %s', (stack) => {
    const out = run('vagrant', ['validate', '--ignore-provider'], stackDir(outdir, stack));
    expect(out).toContain('Vagrantfile validated successfully.');
  });
});

const stackConfig = hasDockerStackConfig();
(stackConfig ? describe : describe.skip)('docker stack config', () => {
  it.each(STACKS)('accepts the stack file of stack %s', (stack) => {
    const dir = stackDir(outdir, stack);
    const file = fs.readdirSync(dir).find((f) => f.startsWith('docker-compose.'))!;
    const out = run('docker', ['stack', 'config', '-c', file], dir);
    expect(out).toContain('endpoint_mode: dnsrr');
    expect(out).toContain('mode: host');
  });
  it.each(STACKS)('accepts every per-service stack file of stack %s', (stack) => {
    const dir = path.join(stackDir(outdir, stack), 'services');
    const files = fs.readdirSync(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect(run('docker', ['stack', 'config', '-c', f], dir)).toContain('mode: host');
  });
});

/** Negative controls: each validator, run the same way, rejects a broken file, so the checks above can fail. */
describe('the validators reject broken files', () => {
  const dir = tempDir();
  (hasTool('shellcheck') ? it : it.skip)('shellcheck flags an unquoted expansion', () => {
    fs.writeFileSync(path.join(dir, 'bad.sh'), '#!/usr/bin/env bash\nrm -rf $1/tmp\n');
    expect(() => run('shellcheck', ['--severity=style', '--shell=bash', 'bad.sh'], dir)).toThrow('SC2086');
  });
  (hasTool('vagrant') ? it : it.skip)('vagrant validate rejects an unknown setting', () => {
    fs.writeFileSync(path.join(dir, 'Vagrantfile'), 'Vagrant.configure("2") do |config|\n  config.vm.no_such_setting = 1\nend\n');
    expect(() => run('vagrant', ['validate', '--ignore-provider'], dir)).toThrow('no_such_setting');
  });
  (stackConfig ? it : it.skip)('docker stack config rejects an invalid update order', () => {
    fs.writeFileSync(path.join(dir, 'bad.yml'), 'version: "3.8"\nservices:\n  a:\n    image: x\n    deploy:\n      update_config:\n        order: sideways\n');
    expect(() => run('docker', ['stack', 'config', '-c', 'bad.yml'], dir)).toThrow('must be one of the following: "start-first", "stop-first"');
  });
});
