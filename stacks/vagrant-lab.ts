import { Construct } from 'constructs';
import { MachineProvider } from '../src';
import { SwarmChatStack } from '../src/stack';
import { demoDockerProps } from './demo-docker';

/**
 * The `vagrant up` CI run's stack (test/vagrant): demo-docker on a subnet of its own, with the
 * machine image the run builds offline (debootstrap, docker import, then docker-vm/Dockerfile)
 * instead of a build from a registry's base image. These constants are the one place it is chosen.
 */
export const VAGRANT_LAB_SUBNET = '192.168.62.0/24';
export const VAGRANT_LAB_STACK_ID = 'vagrant-lab';
export const VAGRANT_LAB_IMAGE = 'swarm-chat/vagrant-vm:bookworm';

export function addVagrantLabStack(scope: Construct): SwarmChatStack {
  return new SwarmChatStack(scope, VAGRANT_LAB_STACK_ID, {
    ...demoDockerProps(VAGRANT_LAB_SUBNET),
    provider: MachineProvider.docker({ image: VAGRANT_LAB_IMAGE, build: undefined }),
  });
}
