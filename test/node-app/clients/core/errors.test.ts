import { isPassingJoinRefusal } from '../../../../node-app/src/clients/core/errors';

describe('join refusals a rejoin retries', () => {
  it('retries a name still bound to the lost node, a node that is not ready yet and an admin not reachable in time', () => {
    expect(isPassingJoinRefusal('USERNAME_TAKEN')).toBe(true);
    expect(isPassingJoinRefusal('NODE_NOT_READY')).toBe(true);
    expect(isPassingJoinRefusal('ADMIN_NODE_UNAVAILABLE')).toBe(true);
  });

  it('gives up at once on refusals that do not pass by waiting', () => {
    for (const code of ['ROOM_NOT_FOUND', 'INVALID_REQUEST', 'INVALID_STATE', 'GENERIC', undefined]) expect(isPassingJoinRefusal(code)).toBe(false);
  });
});
