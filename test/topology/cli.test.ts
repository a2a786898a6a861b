import { spawnSync } from 'child_process';
import { ROOT, cleanupTempDirs, readTree, stackDir, tempDir } from './helpers';
import { buildApp } from '../../stacks/main';

/** Both documented entry points write the same files as the app built in-process. */
afterAll(cleanupTempDirs);

const expected = (() => {
  const outdir = tempDir();
  buildApp(outdir).synth();
  return readTree(stackDir(outdir, 'demo'));
})();

it('npm run synth writes every stack', () => {
  const outdir = tempDir();
  const r = spawnSync('npm', ['run', 'synth', '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CDKTF_OUTDIR: outdir } });
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 0 });
  expect(r.stderr).not.toContain('synth failed');
  expect(r.stdout).toMatch(/synthesized .*stacks\/demo\/ \(16 files\)/);
  expect(readTree(stackDir(outdir, 'demo'))).toEqual(expected);
});

it('npx cdktf synth writes every stack', () => {
  const outdir = tempDir();
  const r = spawnSync('npx', ['cdktf', 'synth', '--output', outdir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1' },
  });
  expect(r.status).toBe(0);
  // The CLI sorts the names and wraps the line at the terminal width.
  expect(r.stdout.replace(/\s+/g, ' ')).toContain('Generated Terraform code for the stacks: demo, demo-docker, five-nodes, lab, lab-grown, vagrant-lab');
  expect(readTree(stackDir(outdir, 'demo'))).toEqual(expected);
}, 120_000);

it('a failing synth prints one clear message and sets a failing exit code instead of a stack trace', () => {
  const { App } = require('cdktf') as typeof import('cdktf');
  const { SwarmChatStack, SwarmRole } = require('../../src') as typeof import('../../src');
  const { demoProps } = require('../../stacks/demo') as typeof import('../../stacks/demo');
  const { main } = require('../../stacks/main') as typeof import('../../stacks/main');
  const errors: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((msg: string) => void errors.push(msg));
  const before = process.exitCode;
  try {
    const props = demoProps();
    main(() => {
      const app = new App({ outdir: tempDir() });
      new SwarmChatStack(app, 'demo', { ...props, nodes: props.nodes.map((n) => ({ ...n, role: SwarmRole.WORKER })) });
      return app;
    });
    expect(process.exitCode).toBe(1);
    expect(errors).toEqual([expect.stringMatching(/^synth failed: .*\[demo\/deployment\/swarm\] swarm has no manager \(nodes: node1, node2, node3\)/s)]);
  } finally {
    process.exitCode = before;
    spy.mockRestore();
  }
});
