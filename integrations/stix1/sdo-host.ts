import type { StixObject } from '../../src/core/stix.js';
import type { XmlElement } from '../../src/core/safe-xml.js';
import type { Stix1MapContext } from './common.js';

/** What the SDO mappers need from the package mapper. */
export interface SdoHost {
  readonly ctx: Stix1MapContext;
  readonly kcNames: ReadonlyMap<string, string>;
  readonly converted: ReadonlyMap<string, string[]>;
  readonly stats: { unresolvedIdrefs: number };
  timeOf(el: XmlElement): string;
  emit(o: StixObject, stix1Id?: string): void;
  relate(source: string, type: string, target: string, created: string): void;
  refs(el: XmlElement | undefined, wrapper: string, local: string): string[];
  identity(src: XmlElement | undefined, created: string): string | undefined;
  /** Maps an Observable as observed-data; its id, or undefined when nothing of it maps. */
  observedData(obs: XmlElement): string | undefined;
}
