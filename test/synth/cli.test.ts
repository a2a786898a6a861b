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
  expect(r.stdout).toMatch(/synthesized .*stacks\/demo\/ \(12 files\)/);
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
  expect(r.stdout).toContain('Generated Terraform code for the stacks: demo, five-nodes, lab');
  expect(readTree(stackDir(outdir, 'demo'))).toEqual(expected);
}, 120_000);
