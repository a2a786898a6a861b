/**
 * The real-Swarm suite (test/swarm): three Docker engines in network namespaces, minutes long,
 * root only. Run with `npm run test:swarm`; kept out of the fast suite (jest.config.js).
 * jest.vagrant.config.js starts from these settings.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/swarm'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  // Each step bounds its own waits; this only catches a step that forgot to.
  testTimeout: 300_000,
  // A lab's engines are detached processes torn down in afterAll; never leave Jest hanging on them.
  forceExit: true,
  verbose: true,
};
