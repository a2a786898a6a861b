/** Unit and integration tests. The real-Swarm suite has its own config (jest.swarm.config.js). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/node-app'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/swarm/'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  testTimeout: 30000,
};
