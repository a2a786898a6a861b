/**
 * The `vagrant up` suite (test/vagrant): the demo on Vagrant's Docker provider, minutes long, root
 * only. Run with `npm run test:vagrant`; kept out of the fast suite (jest.config.js).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/vagrant'],
  // Only the run itself; the lab's unit tests (test/vagrant/lab) are in the fast suite.
  testMatch: ['<rootDir>/test/vagrant/vagrant.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  // Each step bounds its own commands; this only catches a step that forgot to.
  testTimeout: 600_000,
  // The lab's dockerd is a detached process torn down in afterAll; never leave Jest hanging on it.
  forceExit: true,
  verbose: true,
};
