import { ConfigError, loadConfig, parsePeerNodes } from '../../node-app/src/config';

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
