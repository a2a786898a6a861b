/**
 * A typed subset of the Compose file format (v3.8, as `docker stack deploy` reads it). Constructs
 * build this object model; one serializer writes it (see files/yaml-file.ts) — YAML is never templated.
 */
export interface PortMapping {
  readonly target: number;
  readonly published: number;
  readonly protocol: 'tcp' | 'udp';
  /** "host" binds on the node running the task; "ingress" uses the routing mesh. */
  readonly mode: 'host' | 'ingress';
}

export interface ServiceSecret {
  readonly source: string;
  readonly target: string;
}

export interface HealthCheck {
  readonly test: string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly start_period: string;
}

export interface ServiceDeploy {
  readonly mode: 'replicated';
  readonly replicas: number;
  readonly endpoint_mode: 'vip' | 'dnsrr';
  readonly placement: { readonly constraints: string[] };
  readonly restart_policy: { condition: 'none' | 'on-failure' | 'any'; delay: string; max_attempts: number; window: string };
  readonly update_config: UpdateConfig;
  readonly rollback_config: Omit<UpdateConfig, 'failure_action'> & { failure_action: 'pause' | 'continue' };
  readonly resources: {
    readonly limits: { cpus: string; memory: string };
    readonly reservations: { cpus: string; memory: string };
  };
}

export interface UpdateConfig {
  readonly parallelism: number;
  readonly delay: string;
  readonly failure_action: 'rollback' | 'pause' | 'continue';
  readonly monitor: string;
  readonly order: 'stop-first' | 'start-first';
}

export interface ComposeService {
  readonly image: string;
  readonly hostname?: string;
  readonly environment: Record<string, string>;
  readonly ports: PortMapping[];
  readonly networks: string[];
  readonly volumes: string[];
  readonly secrets: ServiceSecret[];
  readonly healthcheck: HealthCheck;
  readonly stop_grace_period: string;
  readonly deploy: ServiceDeploy;
}

export interface ComposeNetwork {
  readonly driver: 'overlay';
  readonly attachable: boolean;
}

export interface ComposeSecret {
  readonly external: true;
  readonly name: string;
}

/** An ordered Compose document; insertion order is output order, so diffs stay readable. */
export class ComposeFile {
  private readonly services = new Map<string, ComposeService>();
  private readonly networks = new Map<string, ComposeNetwork>();
  private readonly volumes = new Map<string, Record<string, never>>();
  private readonly secrets = new Map<string, ComposeSecret>();

  addService(name: string, service: ComposeService): this {
    if (this.services.has(name)) throw new Error(`compose service ${JSON.stringify(name)} is defined twice`);
    this.services.set(name, service);
    return this;
  }

  addNetwork(name: string, network: ComposeNetwork): this {
    this.networks.set(name, network);
    return this;
  }

  addVolume(name: string): this {
    this.volumes.set(name, {});
    return this;
  }

  addSecret(name: string, secret: ComposeSecret): this {
    this.secrets.set(name, secret);
    return this;
  }

  toObject(): Record<string, unknown> {
    const doc: Record<string, unknown> = { version: '3.8', services: Object.fromEntries(this.services) };
    if (this.networks.size) doc.networks = Object.fromEntries(this.networks);
    if (this.volumes.size) doc.volumes = Object.fromEntries(this.volumes);
    if (this.secrets.size) doc.secrets = Object.fromEntries(this.secrets);
    return doc;
  }
}
