import { Construct } from 'constructs';
import { DockerEngineSource, MachineProvider, SwarmChatDeploymentProps } from '../src';
import { SwarmChatStack } from '../src/stack';
import { demoProps } from './demo';

/**
 * The demo for hosts without VirtualBox (Linux with Docker Engine, Apple Silicon): the same three
 * nodes, addresses and ports, each machine a systemd container of Vagrant's Docker provider, built
 * from the synthesized docker-vm/Dockerfile on `vagrant up --provider=docker`. Docker Engine inside
 * comes from the distribution's package, the one source the CI run (the vagrant-lab stack) can reach.
 */
export function demoDockerProps(subnet?: string): SwarmChatDeploymentProps {
  return {
    ...demoProps(subnet),
    provider: MachineProvider.docker({ build: { baseImage: 'ubuntu:22.04' } }),
    dockerEngine: DockerEngineSource.DISTRIBUTION_PACKAGE,
  };
}

export function addDemoDockerStack(scope: Construct): SwarmChatStack {
  return new SwarmChatStack(scope, 'demo-docker', demoDockerProps());
}
