export { EdlLists, type EdlListsOptions, type ListLookup } from './lists.js';
export { edlSchema, listKinds, type EdlConfig, type EdlListConfig } from './schema.js';
export { EDL_FORMATS, EDL_KINDS, FORMAT_KINDS, type EdlFormat, type EdlKind } from './formats.js';
export type { Snapshot } from './kind-list.js';
