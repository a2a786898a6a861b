import { isEngineRule, splitRule } from './host-engine';

describe('iptables -S rules become argv for the teardown', () => {
  it('splits words and keeps a quoted comment whole', () => {
    expect(splitRule('-D FORWARD -i vgchat0 ! -o vgchat0 -j ACCEPT')).toEqual(['-D', 'FORWARD', '-i', 'vgchat0', '!', '-o', 'vgchat0', '-j', 'ACCEPT']);
    expect(splitRule('-D INPUT -m comment --comment "lab rule" -j ACCEPT')).toEqual(['-D', 'INPUT', '-m', 'comment', '--comment', 'lab rule', '-j', 'ACCEPT']);
  });
});

describe("the teardown removes only the lab engine's firewall rules", () => {
  it("takes Docker's chains and the lab's bridges, and leaves another lab's bridge rule", () => {
    expect(isEngineRule('-A FORWARD -j DOCKER-USER', 'vgchat0')).toBe(true);
    expect(isEngineRule('-N DOCKER-ISOLATION-STAGE-1', 'vgchat0')).toBe(true);
    expect(isEngineRule('-A POSTROUTING -s 10.213.0.0/24 ! -o vgchat0 -j MASQUERADE', 'vgchat0')).toBe(true);
    expect(isEngineRule('-A FORWARD -i br-3f2a9c1d0e4b -o br-3f2a9c1d0e4b -j ACCEPT', 'vgchat0')).toBe(true);
    expect(isEngineRule('-A FORWARD -i swchat0 -o swchat0 -j ACCEPT', 'vgchat0')).toBe(false);
  });
});
