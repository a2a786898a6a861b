import { lookalikeOf, normaliseName, skeleton } from '../../../node-app/src/protocol/usernames';

const check = (raw: string) => normaliseName('Username', raw, 64);

it('normalises to NFC and trims', () => {
  expect(check('  a\u0301lice  ')).toEqual({ ok: true, name: '\u00e1lice' });
  expect(check('bob smith')).toEqual({ ok: true, name: 'bob smith' });
  // trim() takes a leading byte order mark as white space: the name is what is left.
  expect(check('\uFEFFalice')).toEqual({ ok: true, name: 'alice' });
});

it.each([
  ['right-to-left override', 'alice\u202Egnp.exe'],
  ['zero-width space', 'al\u200Bice'],
  ['zero-width joiner', 'al\u200Dice'],
  ['left-to-right isolate', '\u2066alice'],
  ['byte order mark inside', 'al\uFEFFice'],
  ['Hangul filler', 'alice\u3164'],
  ['soft hyphen', 'ali\u00ADce'],
])('refuses a %s', (_what, raw) => {
  expect(check(raw)).toEqual({ ok: false, error: 'Username must not contain invisible or text-direction characters' });
});

it('refuses blanks, controls, odd spaces and overlong names', () => {
  expect(check(' \t ')).toMatchObject({ ok: false });
  expect(check('   ')).toEqual({ ok: false, error: 'Username must not be blank' });
  expect(check('a\nb')).toEqual({ ok: false, error: 'Username must not contain control characters' });
  expect(check('a\u00A0b')).toEqual({ ok: false, error: 'Username may only use plain spaces' });
  expect(check('x'.repeat(65))).toEqual({ ok: false, error: 'Username too long (max 64 characters)' });
  expect(check('😀'.repeat(64))).toMatchObject({ ok: true });
  expect(check('❤\uFE0F')).toMatchObject({ ok: true });
});

it('gives lookalikes one skeleton', () => {
  const alice = skeleton('alice');
  for (const v of ['\u0430lice', 'ALICE', 'Alice', '\u00e1lice', 'a\u0301lice', 'ａｌｉｃｅ', 'a1ice', '\u0251lice'.replace('\u0251', '\u03b1')]) {
    expect([v, skeleton(v)]).toEqual([v, alice]);
  }
  expect(skeleton('modern')).toBe(skeleton('rnodern'));
  expect(skeleton('bob')).not.toBe(alice);
});

it('finds the member a new name would be mistaken for, never the same name itself', () => {
  expect(lookalikeOf('\u0430lice', ['bob', 'alice'])).toBe('alice');
  expect(lookalikeOf('alice', ['alice', 'bob'])).toBeUndefined();
  expect(lookalikeOf('carol', ['alice', 'bob'])).toBeUndefined();
});
