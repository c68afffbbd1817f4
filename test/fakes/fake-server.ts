export * from '../../src/testing/fake-server.js';
