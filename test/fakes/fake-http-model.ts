export * from '../../src/testing/fake-http-model.js';
