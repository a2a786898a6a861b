/**
 * The `vagrant up` suite (test/vagrant): the demo on Vagrant's Docker provider, minutes long, root
 * only. Run with `npm run test:vagrant`; kept out of the fast suite (jest.config.js). A system suite
 * like test/swarm: the same settings (jest.swarm.config.js) but for its roots and its longer steps.
 */
module.exports = {
  ...require('./jest.swarm.config.js'),
  roots: ['<rootDir>/test/vagrant'],
  // Only the run itself; the lab's unit tests (test/vagrant/lab) are in the fast suite.
  testMatch: ['<rootDir>/test/vagrant/vagrant.test.ts'],
  // Each step bounds its own commands; this only catches a step that forgot to.
  testTimeout: 600_000,
};
