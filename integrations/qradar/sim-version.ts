import { qerror, type SimResponse } from './sim-http.js';

/**
 * `Version` header negotiation (IBM's QRadar REST API documentation): absent ⇒ latest; a major only ⇒ its latest
 * minor; higher than latest ⇒ latest; removed ⇒ 422 "has been removed"; unknown ⇒ 422 "not a valid
 * version". `/help/versions` lists what the console knows.
 */

export interface VersionInfo {
  id: number;
  version: string;
  deprecated: boolean;
  removed: boolean;
  root_resource_ids: number[];
}

const num = (v: string): number => Number(v);

export class Versions {
  readonly latest: string;
  readonly list: VersionInfo[];

  /**
   * @param latest the console's newest API version, e.g. "26.0" (QRadar 7.5.0 UP12) or "12.0".
   * @param removed versions the console answers as removed (default 1.0–5.0 where below latest).
   */
  constructor(latest: string, removed?: string[]) {
    if (!/^\d+\.\d+$/.test(latest)) throw new Error(`QRadar simulator: apiVersion must look like 26.0, got ${latest}`);
    this.latest = latest;
    const top = Math.floor(num(latest));
    const gone = new Set(removed ?? ['1.0', '2.0', '3.0', '4.0', '5.0'].filter((v) => num(v) < num(latest)));
    const all: string[] = [];
    for (let m = 1; m <= top; m++) all.push(`${m}.0`);
    if (!all.includes(latest)) all.push(latest);
    this.list = all.map((version, i) => ({
      id: i + 1,
      version,
      deprecated: gone.has(version) || num(version) < top - 10,
      removed: gone.has(version),
      root_resource_ids: [],
    }));
  }

  /** The version a request is served with, or the 422 for a bad header. */
  negotiate(header: string | undefined): string | SimResponse {
    if (header === undefined || header.trim() === '') return this.latest;
    const h = header.trim();
    const m = /^(\d+)(?:\.(\d+))?$/.exec(h);
    const invalid = () =>
      qerror(
        422,
        0,
        `Version (${h}) from header parameter (Version) is not a valid version.`,
        'The version is not valid.',
      );
    if (!m) return invalid();
    const v = m[2] === undefined ? undefined : `${Number(m[1])}.${Number(m[2])}`;
    if (num(h) > num(this.latest)) return this.latest;
    const known =
      v === undefined
        ? this.list.filter((x) => Math.floor(num(x.version)) === Number(m[1])).pop()
        : this.list.find((x) => x.version === v);
    if (!known) return invalid();
    if (known.removed)
      return qerror(
        422,
        0,
        `Version (${known.version}) from header parameter (Version) has been removed and is no longer valid. Please use a more recent version.`,
        'The version has been removed.',
      );
    return known.version;
  }
}
