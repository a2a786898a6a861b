/** Unit and integration tests. The real-Swarm and `vagrant up` suites have their own configs (jest.swarm.config.js, jest.vagrant.config.js). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/node-app'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/swarm/', '<rootDir>/test/vagrant/vagrant.test.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  testTimeout: 30000,
};
