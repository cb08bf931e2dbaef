import { defineVaultSuite } from './vault-suite.js';

defineVaultSuite('postgres');
