export * from '../../src/testing/fake-kserve-v2.js';
