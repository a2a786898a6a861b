import { App } from 'cdktf';
import * as path from 'path';
import { TerraformStack } from 'cdktf';
import { FileSynthesizer } from '../src/synth/file-synthesizer';
import { addDemoStack } from './demo';
import { addDemoDockerStack } from './demo-docker';
import { addFiveNodesStack } from './five-nodes';
import { addLabGrownStack, addLabStack } from './lab';
import { addVagrantLabStack } from './vagrant-lab';

/**
 * The cdktf app: `npx cdktf synth` and `npm run synth` both run this. Each stack writes its files
 * to `<outdir>/stacks/<stack id>/`.
 */
export function buildApp(outdir?: string): App {
  const app = new App(outdir ? { outdir } : {});
  addDemoStack(app);
  addFiveNodesStack(app);
  addLabStack(app);
  addLabGrownStack(app);
  addDemoDockerStack(app);
  addVagrantLabStack(app);
  return app;
}

/** Synthesizes every stack and reports where the files went; sets a failing exit code on error. */
export function main(makeApp: () => App = () => buildApp()): void {
  const started = process.hrtime.bigint();
  try {
    const app = makeApp();
    app.synth();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    for (const stack of app.node.children) {
      const synthesizer = (stack as TerraformStack).synthesizer;
      const count = synthesizer instanceof FileSynthesizer ? synthesizer.written.length : 0;
      console.log(`synthesized ${path.join(app.outdir, 'stacks', stack.node.id)}/ (${count} files)`);
    }
    console.log(`synth took ${ms.toFixed(0)} ms`);
  } catch (err) {
    console.error(`synth failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) main();
