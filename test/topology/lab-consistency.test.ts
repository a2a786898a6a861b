import { DEMO_SUBNET } from '../../stacks/demo';
import { LAB_STACK_ID, LAB_SUBNET } from '../../stacks/lab';
import { buildApp } from '../../stacks/main';
import { Ipv4Subnet } from '../../src';
import { cleanupTempDirs, readTree, stackDir, tempDir } from './helpers';

afterAll(cleanupTempDirs);

/** The lab must test the demo's files: they may differ only in the subnet and the addresses that follow from it. */
it('lab files equal the demo files once the lab subnet is mapped back to the demo subnet', () => {
  const outdir = tempDir();
  buildApp(outdir).synth();
  const demo = readTree(stackDir(outdir, 'demo'));
  const lab = readTree(stackDir(outdir, LAB_STACK_ID));
  const prefix = (cidr: string) => Ipv4Subnet.parse(cidr).host(1).replace(/\.1$/, '.');
  expect(prefix(LAB_SUBNET)).not.toBe(prefix(DEMO_SUBNET));
  const mapped = Object.fromEntries(
    Object.entries(lab).map(([file, text]) => [file, text.split(prefix(LAB_SUBNET)).join(prefix(DEMO_SUBNET))]),
  );
  expect(mapped).toEqual(demo);
});
