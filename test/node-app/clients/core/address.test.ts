import { normalizeNodeAddress, parseNodeList } from '../../../../node-app/src/clients/core/address';

describe('normalizeNodeAddress', () => {
  it.each([
    ['localhost:8081', 'ws://localhost:8081/'],
    ['192.168.56.101:8080', 'ws://192.168.56.101:8080/'],
    ['ws://node1:8081', 'ws://node1:8081/'],
    ['ws://node1:8081/ws', 'ws://node1:8081/ws'],
    ['http://127.0.0.1:8082/', 'ws://127.0.0.1:8082/'],
    ['https://chat.example:443', 'wss://chat.example/'],
    ['  [::1]:8083 ', 'ws://[::1]:8083/'],
    ['ws://node1:80', 'ws://node1/'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeNodeAddress(input)).toBe(expected);
  });

  it.each([
    ['', /empty node address/],
    ['localhost', /no port/],
    ['ftp://host:21', /scheme ftp: is not/],
    ['ws://:8080', /invalid node address/],
    ['host:notaport', /invalid node address/],
  ])('rejects %p with a clear message', (input, message) => {
    expect(() => normalizeNodeAddress(input)).toThrow(message);
  });
});

describe('parseNodeList', () => {
  it('splits commas and spaces and drops duplicates in order', () => {
    expect(parseNodeList(['a:1,b:2', 'ws://a:1', 'c:3 b:2'])).toEqual(['ws://a:1/', 'ws://b:2/', 'ws://c:3/']);
  });
});
