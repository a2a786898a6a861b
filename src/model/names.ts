import { TopologyError } from './errors';

/**
 * Names become Vagrant machine names, Swarm service names, overlay DNS names and label values,
 * so they must be valid in all of those at once: a short lowercase DNS label.
 */
const NAME = /^[a-z][a-z0-9-]{0,29}[a-z0-9]$/;

export function checkName(kind: string, value: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new TopologyError(
      `${kind} ${JSON.stringify(value)} is not a valid name; expected 2-31 lowercase letters, digits or "-", starting with a letter (like "node1")`,
    );
  }
  return value;
}

/** RFC 1123 hostname: dot-separated labels, each 1-63 characters. */
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkHostname(value: string): string {
  const ok = typeof value === 'string' && value.length <= 253 && value.split('.').every((l) => HOST_LABEL.test(l));
  if (!ok) {
    throw new TopologyError(
      `hostname ${JSON.stringify(value)} is not a valid hostname; expected lowercase letters, digits and "-" (like "chat-node1")`,
    );
  }
  return value;
}

export function checkInteger(kind: string, value: number, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TopologyError(`${kind} ${JSON.stringify(value)} is out of range; expected a whole number from ${min} to ${max}${unit}`);
  }
  return value;
}

export function checkNumber(kind: string, value: number, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TopologyError(`${kind} ${JSON.stringify(value)} is out of range; expected a number from ${min} to ${max}${unit}`);
  }
  return value;
}
