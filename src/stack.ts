import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { RUNTIME_STATE, SwarmChatDeployment, SwarmChatDeploymentProps } from './deployment';
import { checkName } from './model/names';
import { writeGeneratedFilesOnSynth } from './synth/file-synthesizer';

/** One deployment per cdktf stack; the stack id is its folder name under `cdktf.out/stacks/`. */
export class SwarmChatStack extends TerraformStack {
  readonly deployment: SwarmChatDeployment;

  constructor(scope: Construct, id: string, props: SwarmChatDeploymentProps) {
    super(scope, checkName('stack id', id));
    this.deployment = new SwarmChatDeployment(this, 'deployment', props);
    writeGeneratedFilesOnSynth(this, RUNTIME_STATE);
  }
}
