import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ENV_VARS, loadConfig, parsePeerNodes } from '../../node-app/src/config';

describe('PEER_NODES parsing', () => {
  it('reads id:url entries and keeps https URLs intact', () => {
    expect(parsePeerNodes('node2:http://node2:9090, node3:https://n3.example:443')).toEqual([
      { id: 'node2', address: 'http://node2:9090' },
      { id: 'node3', address: 'https://n3.example:443' },
    ]);
  });

  it('reads id:host:port entries as http URLs', () => {
    expect(parsePeerNodes('node2:node2:9090')).toEqual([{ id: 'node2', address: 'http://node2:9090' }]);
  });

  it('skips the node itself so every node can get the same list', () => {
    expect(parsePeerNodes('node1:http://a:1,node2:http://b:2', 'node1')).toEqual([{ id: 'node2', address: 'http://b:2' }]);
  });

  it('rejects malformed entries with a message naming the entry', () => {
    expect(() => parsePeerNodes('node2')).toThrow(/PEER_NODES entry "node2"/);
    expect(() => parsePeerNodes('node2:justahost')).toThrow(ConfigError);
    expect(() => parsePeerNodes('a:http://x:1,a:http://y:2')).toThrow(/twice/);
  });

  it('treats an empty value as no peers', () => {
    expect(parsePeerNodes('')).toEqual([]);
    expect(parsePeerNodes(undefined)).toEqual([]);
  });
});

describe('loadConfig', () => {
  it('uses the original defaults for its variables', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ nodeId: 'node1', wsHost: '0.0.0.0', wsPort: 8080, rpcHost: '0.0.0.0', rpcPort: 9090, rpcAddress: 'http://node1:9090', peers: [] });
  });

  it('derives XMLRPC_ADDRESS from NODE_ID and XMLRPC_PORT', () => {
    expect(loadConfig({ NODE_ID: 'node7', XMLRPC_PORT: '9097' }).rpcAddress).toBe('http://node7:9097');
  });

  it('detects failures far faster than the original 30 s heartbeat by default', () => {
    const c = loadConfig({});
    expect(c.heartbeatIntervalMs * c.heartbeatFailures + c.heartbeatTimeoutMs).toBeLessThan(5000);
  });

  it('rejects bad numbers, levels and legacy peers with the variable named', () => {
    expect(() => loadConfig({ WEBSOCKET_PORT: '70000' })).toThrow(/WEBSOCKET_PORT/);
    expect(() => loadConfig({ HEARTBEAT_INTERVAL_MS: 'soon' })).toThrow(/HEARTBEAT_INTERVAL_MS/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ LEGACY_PEERS: 'node9' })).toThrow(/LEGACY_PEERS/);
  });

  it('reads the cluster secret from a file', () => {
    const fs = require('node:fs');
    const path = require('node:path');
    const os = require('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    try {
      fs.writeFileSync(path.join(dir, 's'), 'abcdefghijklmnopqrstuvwx\n');
      expect(loadConfig({ CLUSTER_SECRET_FILE: path.join(dir, 's') }).clusterSecret).toBe('abcdefghijklmnopqrstuvwx');
      expect(() => loadConfig({ CLUSTER_SECRET_FILE: path.join(dir, 'missing') })).toThrow(/cannot be read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('replication settings', () => {
  it('are read with the rest of the configuration, with their defaults', () => {
    expect(loadConfig({}).replication).toEqual({
      enabled: true, heartbeatMs: 100, electionBaseMs: 700, electionStepMs: 301, callTimeoutMs: 600, submitTimeoutMs: 8000, synchronous: 'inline',
      retainMessages: 10_000, retainDays: 0, retainMinSeconds: 3600,
    });
    expect(loadConfig({ REPLICATION: 'off', REPL_SYNC: 'Normal' }).replication).toMatchObject({ enabled: false, synchronous: 'normal' });
  });

  it('reject bad values with the variable named', () => {
    expect(() => loadConfig({ REPLICATION: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ REPL_SYNC: 'off' })).toThrow(/REPL_SYNC/);
    expect(() => loadConfig({ REPL_HEARTBEAT_MS: '5' })).toThrow(/REPL_HEARTBEAT_MS/);
    expect(() => loadConfig({ REPL_HEARTBEAT_MS: '500', REPL_ELECTION_MS: '1000' })).toThrow(/REPL_ELECTION_MS .* 3 × REPL_HEARTBEAT_MS/);
  });
});

describe('the variable table', () => {
  /** Variable names in the first column of node-app/README.md's configuration table. */
  function readmeVariables(): string[] {
    const text = fs.readFileSync(path.join(__dirname, '../../node-app/README.md'), 'utf8');
    const lines = text.split('\n');
    const start = lines.findIndex((l) => /^\|\s*variable\s*\|/.test(l));
    expect(start).toBeGreaterThanOrEqual(0);
    const names: string[] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      const first = line.split('|')[1];
      for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(m[1]);
    }
    return names;
  }

  it('lists every variable once', () => {
    const names = ENV_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('is the README configuration table, variable for variable', () => {
    expect(readmeVariables().sort()).toEqual(ENV_VARS.map((v) => v.name).sort());
  });

  it('documents each variable with a type, a default and a meaning', () => {
    for (const v of ENV_VARS) {
      expect(v.type).not.toBe('');
      expect(v.default).not.toBe('');
      expect(v.meaning).not.toBe('');
    }
  });

  it('drives the parsing: every integer variable is checked under its own name', () => {
    const numeric = ENV_VARS.filter((v) => v.type.startsWith('integer'));
    expect(numeric.length).toBeGreaterThan(20);
    for (const v of numeric) {
      const bad = () => loadConfig({ [v.name]: 'not-a-number' });
      expect(bad).toThrow(new RegExp(v.name));
    }
  });
});
