import { deterministicId, SCO_ID_PROPERTIES, scoId } from './ids.js';
import { isSco } from './stix.js';
import { entry } from './indexed.js';

/**
 * STIX 2.0 `observed-data.objects` → STIX 2.1 SCOs and `object_refs`.
 *
 * A 2.0 observed-data holds its cyber observables in a dictionary keyed by local names ("0",
 * "1", …) whose references (`src_ref: "0"`, `contains_refs: ["2"]`, also inside extensions and
 * lists such as `body_multipart`) name other keys of the same dictionary. The upgrade turns each
 * entry into a top-level SCO with a deterministic id (STIX 2.1 §2.9: UUIDv5 over the
 * id-contributing properties, references resolved first), rewrites every local reference to the
 * new id, renames the properties STIX 2.1 renamed, and replaces `objects` by `object_refs`.
 * Pure: the same observed-data always yields the same SCOs.
 */

export type UpgradeResult =
  | { ok: true; scos: Record<string, unknown>[] }
  | { ok: false; reason: string; message: string };

/** STIX 2.0 SCO properties renamed in 2.1 (type → 2.0 name → 2.1 name). */
const RENAMED: Record<string, Record<string, string>> = {
  file: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  directory: { created: 'ctime', modified: 'mtime', accessed: 'atime' },
  process: { binary_ref: 'image_ref', created: 'created_time' },
  'user-account': { password_last_changed: 'credential_last_changed' },
  'windows-registry-key': { modified: 'modified_time' },
};

/** STIX 2.0 SCO properties with no 2.1 property: kept as `x_stix20_<name>` custom properties. */
const REMOVED: Record<string, readonly string[]> = {
  file: ['is_encrypted', 'encryption_algorithm', 'decryption_key'],
  process: ['name', 'arguments', 'is_hidden'],
};

const MAX_OBJECTS = 10_000;

/** The local keys a value refers to (at any depth), for ordering. */
function localRefs(v: unknown, out: string[], key = ''): void {
  if (Array.isArray(v)) {
    for (const x of v) {
      if (typeof x === 'string' && key.endsWith('_refs')) out.push(x);
      else localRefs(x, out);
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && k.endsWith('_ref')) out.push(x);
      else localRefs(x, out, k);
    }
  }
}

/** A copy of `v` with every local reference replaced by its SCO id; undefined when one does not resolve. */
function rewrite(v: unknown, ids: ReadonlyMap<string, string>, bad: string[], key = ''): unknown {
  if (Array.isArray(v)) {
    return v.map((x) => {
      if (typeof x === 'string' && key.endsWith('_refs')) {
        const id = ids.get(x);
        if (id === undefined) bad.push(`${key} "${x.slice(0, 40)}"`);
        return id ?? x;
      }
      return rewrite(x, ids, bad);
    });
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && k.endsWith('_ref')) {
        const id = ids.get(x);
        if (id === undefined) bad.push(`${k} "${x.slice(0, 40)}"`);
        out[k] = id ?? x;
      } else out[k] = rewrite(x, ids, bad, k);
    }
    return out;
  }
  return v;
}

/** The 2.1 form of one 2.0 SCO (renamed and removed properties; references not yet rewritten). */
function rename(type: string, o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ren = RENAMED[type] ?? {};
  const removed = REMOVED[type] ?? [];
  for (const [k, v] of Object.entries(o)) {
    if (removed.includes(k)) out[`x_stix20_${k}`] = v;
    else out[ren[k] ?? k] = v;
  }
  return out;
}

/**
 * Upgrades `o` (an observed-data with a 2.0 `objects` dictionary and no `object_refs`) in place
 * and returns its SCOs; a dictionary that cannot be upgraded (not SCOs, a reference to a missing
 * key, a reference cycle) is a problem for the whole observed-data.
 */
export function upgradeObservedData(o: Record<string, unknown>): UpgradeResult {
  const objects = o.objects;
  if (!objects || typeof objects !== 'object' || Array.isArray(objects))
    return {
      ok: false,
      reason: 'bad_property',
      message: 'observed-data objects must be a dictionary of cyber observables',
    };
  const entries = Object.entries(objects as Record<string, unknown>);
  if (entries.length === 0) return { ok: false, reason: 'bad_property', message: 'observed-data objects is empty' };
  if (entries.length > MAX_OBJECTS)
    return { ok: false, reason: 'field_too_large', message: `observed-data has more than ${MAX_OBJECTS} objects` };
  const local = new Map<string, Record<string, unknown>>();
  for (const [k, v] of entries) {
    if (!v || typeof v !== 'object' || Array.isArray(v))
      return {
        ok: false,
        reason: 'bad_property',
        message: `observed-data object "${k.slice(0, 40)}" is not an object`,
      };
    const t = (v as { type?: unknown }).type;
    if (typeof t !== 'string' || !(isSco(t) || t.startsWith('x-'))) {
      return {
        ok: false,
        reason: 'bad_property',
        message: `observed-data object "${k.slice(0, 40)}" has type ${JSON.stringify(String(t).slice(0, 40))}, not a cyber observable type`,
      };
    }
    local.set(k, rename(t, v as Record<string, unknown>));
  }
  // Ids in dependency order: an object's id can depend on the ids it references (e.g. a file's
  // parent_directory_ref); a reference cycle (a process and its child) is cut by giving the
  // objects on it ids keyed by the observed-data id and their local key.
  const ids = new Map<string, string>();
  const active = new Set<string>();
  const cyclic = new Set<string>();
  const idOf = (k: string): void => {
    if (ids.has(k) || !local.has(k)) return;
    if (active.has(k)) {
      cyclic.add(k);
      return;
    }
    active.add(k);
    const refs: string[] = [];
    localRefs(local.get(k), refs);
    for (const r of refs) idOf(r);
    active.delete(k);
    const body = entry(local, k);
    const type = String(body.type);
    if (cyclic.has(k) || refs.some((r) => local.has(r) && !ids.has(r))) {
      ids.set(k, deterministicId(type, `${String(o.id)}/objects/${k}`));
      return;
    }
    const resolved = rewrite(body, ids, []) as Record<string, unknown>;
    delete resolved.type;
    const props = SCO_ID_PROPERTIES[type];
    const contributing: Record<string, unknown> = {};
    if (props) for (const p of props) if (resolved[p] !== undefined) contributing[p] = resolved[p];
    ids.set(k, scoId(type, props && Object.keys(contributing).length ? contributing : resolved));
  };
  for (const k of local.keys()) idOf(k);

  const scos: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const [k, body] of local) {
    const bad: string[] = [];
    const rewritten = rewrite(body, ids, bad) as Record<string, unknown>;
    if (bad.length)
      return {
        ok: false,
        reason: 'bad_ref',
        message: `observed-data object "${k.slice(0, 40)}": ${bad[0]} names no object of this observed-data`,
      };
    const id = entry(ids, k);
    if (seen.has(id)) continue;
    seen.add(id);
    const { type, ...rest } = rewritten;
    scos.push({ type, spec_version: '2.1', id, ...rest });
  }
  o.object_refs = [...seen];
  delete o.objects;
  return { ok: true, scos };
}

/** Whether an object is an observed-data that still needs the upgrade. */
export function needsObservedDataUpgrade(o: Record<string, unknown>): boolean {
  return o.type === 'observed-data' && o.objects !== undefined && o.object_refs === undefined;
}
