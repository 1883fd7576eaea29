/** MISP galaxies → attack-pattern / malware / threat-actor / intrusion-set objects. Pure. */
import { deterministicId } from '../../src/core/ids.js';
import type { StixObject } from '../../src/core/stix.js';
import { arr, obj, str, uuidOf, type Json } from './context.js';
import type { MispTable } from './table.js';

const ATTACK_ID = /\b(T\d{4}(?:\.\d{3})?)\b/;

export interface GalaxyResult {
  objects: StixObject[];
  /** galaxy types with no STIX mapping, as labels (`misp-galaxy:<type>="<value>"`). */
  labels: string[];
}

export function mapGalaxies(galaxies: Json[], table: MispTable, when: string, markings?: string[]): GalaxyResult {
  const out: GalaxyResult = { objects: [], labels: [] };
  for (const g of galaxies) {
    const gtype = str(g.type) ?? '';
    const stixType = table.galaxies.get(gtype);
    for (const c of arr(g.GalaxyCluster)) {
      const value = str(c.value)?.trim();
      if (!value) continue;
      if (!stixType) {
        out.labels.push(`misp-galaxy:${gtype}="${value}"`.slice(0, 256));
        continue;
      }
      const uuid = uuidOf(c.uuid);
      const id = uuid ? `${stixType}--${uuid}` : deterministicId(stixType, `misp-galaxy:${gtype}:${value}`);
      const o: StixObject = { type: stixType, spec_version: '2.1', id, created: when, modified: when };
      const meta = obj(c.meta) ?? {};
      let name = value;
      const extIds = (Array.isArray(meta.external_id) ? meta.external_id : []).map(str).filter((x): x is string => !!x);
      if (stixType === 'attack-pattern') {
        const m = ATTACK_ID.exec(value);
        const attackId = extIds.find((x) => /^T\d{4}/.test(x)) ?? m?.[1];
        if (m) name = value.replace(/\s*-\s*T\d{4}(?:\.\d{3})?\s*$/, '').trim() || value;
        if (attackId)
          o.external_references = [
            {
              source_name: 'mitre-attack',
              external_id: attackId,
              url: `https://attack.mitre.org/techniques/${attackId.replace('.', '/')}`,
            },
          ];
      }
      o.name = name;
      const description = str(c.description);
      if (description) o.description = description.slice(0, 100_000);
      if (stixType === 'malware') o.is_family = true;
      if (markings) o.object_marking_refs = markings;
      o.labels = [`misp-galaxy:${gtype}`.slice(0, 256)];
      out.objects.push(o);
    }
  }
  return out;
}
