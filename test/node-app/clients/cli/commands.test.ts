import { messageLine } from '../../../../node-app/src/clients/cli/commands';

describe('messageLine', () => {
  it('marks own messages and never passes escapes through', () => {
    const line = messageLine(
      { message_id: 'm', room_id: 'r', username: 'eve\x1b]0;pwned\x07', content: 'x\x1b[2J', sequence_number: 7, timestamp: 'bad' },
      'alice',
    );
    expect(line).toBe('[--:--:--] #7 eve\\x1b]0;pwned\\x07: x\\x1b[2J');
    const own = messageLine({ message_id: 'm', room_id: 'r', username: 'alice', content: 'hi', sequence_number: 1, timestamp: '2026-11-26T11:53:19.604421+00:00' }, 'alice');
    expect(own).toMatch(/^\[\d\d:\d\d:\d\d\] #1 alice \(you\): hi$/);
  });
});
