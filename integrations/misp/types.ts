/** The options and results of mapping one MISP event (map.ts). */
import type { Rejection } from '../../src/core/errors.js';
import type { Observable, StixObject } from '../../src/core/stix.js';
import type { MappedItem } from '../../src/pipeline/types.js';
import type { MispTable } from './table.js';

export interface MispMapOptions {
  /** RFC 3339 run time (injected). */
  now: string;
  table: MispTable;
  /** Labels every object gets (the source's `labels`). */
  labels?: readonly string[];
  confidence?: number;
  /** Only attributes with a timestamp at or after this (epoch s) are mapped; the event shell always is. */
  sinceAttribute?: number;
  name: string;
  /** Make the event's report (default true; false for attribute searches, which see part of an event). */
  report?: boolean;
}

export interface AttributeTrace {
  uuid: string;
  type: string;
  toIds: boolean;
  /** the indicator pattern, when one was made */
  pattern?: string;
  observables: Observable[];
  /** the MISP object holding the attribute: its uuid and name */
  object?: { uuid: string; name: string };
  /** the observable objects made (traced runs only) */
  scos?: StixObject[];
  /** 'mapped' | 'context' | 'unknown' | a rejection reason */
  outcome: string;
}

export interface EventResult {
  items: MappedItem[];
  rejections: Rejection[];
  /** attributes read, in the event and its objects */
  attributes: number;
  /** types not in the table, with counts (kept as x-misp-attribute objects) */
  unknownTypes: Map<string, number>;
  /** the highest attribute/event timestamp seen (epoch s) */
  maxTimestamp: number;
  /** ObjectReferences mapped to relationships */
  references: number;
  trace: AttributeTrace[];
}
