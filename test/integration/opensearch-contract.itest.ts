import { it } from 'node:test';
import { runStoreContract } from '../store-contract.js';
import { SKIP_REASON, freshStore } from './opensearch-helpers.js';

if (SKIP_REASON) it('Store contract: opensearch', { skip: SKIP_REASON }, () => {});
else runStoreContract('opensearch', () => freshStore());
