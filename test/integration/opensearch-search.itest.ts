import { searchSuite } from '../server/search-suite.js';
import { SKIP_REASON, freshStore } from './opensearch-helpers.js';

// the search routes' suite (test/server/search-suite.ts) on a real OpenSearch node
searchSuite('OpenSearch', () => freshStore(), { skip: SKIP_REASON });
