/** The terminal UI's controller on its own: input checks that need no node. */
import { TuiController } from '../../../../node-app/src/clients/tui/controller';

describe('TuiController', () => {
  it('asks for a username before connecting', async () => {
    const c = new TuiController({ nodes: ['ws://127.0.0.1:21999/'] });
    await c.connect();
    expect(c.state).toMatchObject({ screen: 'connect', error: 'Enter a username first' });
  });

  it('names a malformed node address instead of connecting', async () => {
    const c = new TuiController({ username: 'alice' });
    c.setNodesText('localhost:8081, nohost');
    await c.connect();
    expect(c.state.error).toBe('invalid node address "nohost": no port (e.g. nohost:8081)');
    c.setNodesText('  ');
    await c.connect();
    expect(c.state.error).toBe('Enter at least one node address (host:port)');
  });

  it('reports every unreachable node and stays on the connection screen', async () => {
    const c = new TuiController({ username: 'alice', nodes: ['ws://127.0.0.1:21998/', 'ws://127.0.0.1:21997/'] });
    await c.connect();
    expect(c.state.screen).toBe('connect');
    expect(c.state.error).toMatch(/cannot connect to ws:\/\/127\.0\.0\.1:21998\/.*cannot connect to ws:\/\/127\.0\.0\.1:21997\//);
    expect(c.state.busy).toBeUndefined();
  });
});
