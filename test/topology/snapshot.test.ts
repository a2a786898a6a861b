import { buildApp } from '../../stacks/main';
import { cleanupTempDirs, readTree, stackDir, tempDir } from './helpers';

afterAll(cleanupTempDirs);

/** One snapshot per stack covers every synthesized file; review a diff here like a code change. */
describe('synthesized output', () => {
  const outdir = tempDir();
  beforeAll(() => buildApp(outdir).synth());

  it.each(['demo', 'five-nodes', 'lab', 'lab-grown', 'demo-docker', 'vagrant-lab'])('stack %s matches its snapshot', (stack) => {
    expect(readTree(stackDir(outdir, stack))).toMatchSnapshot();
  });
});
