export { LookupIndex } from './lookup-index.js';
export { buildIndex, type BuildIndexOptions } from './build.js';
export { IndexFollower, publishIndexMetrics, type IndexFollowerOptions, type MetricsPublisher } from './follower.js';
export { inactiveMatches, inactiveState } from './inactive.js';
export type {
  InactiveMatch,
  IndicatorMatch,
  LookupResult,
  LookupIndexOptions,
  IndexSizes,
  MatchKind,
} from './types.js';
export { RemoteLookup, type RemoteLookupOptions } from './remote/remote-lookup.js';
export { FilterKeeper } from './remote/filter-keeper.js';
