/**
 * A topology that cannot work. Messages are lowercase, name the bad value, and say what to use instead,
 * so a synth failure reads as a fix-it instruction.
 */
export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}
