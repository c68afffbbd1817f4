export * from '../../src/testing/fake-upstream-minimal.js';
