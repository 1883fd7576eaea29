import { randomUUID } from 'node:crypto';

/** One object of a POST in a status resource. */
export interface StatusDetail {
  id: string;
  version: string;
  message?: string;
}

/** A TAXII 2.1 status resource (§4.3.1). Writes are applied before the POST is answered, so it is always `complete`. */
export interface StatusResource {
  id: string;
  status: 'complete' | 'pending';
  request_timestamp: string;
  total_count: number;
  success_count: number;
  successes: StatusDetail[];
  failure_count: number;
  failures: StatusDetail[];
  pending_count: number;
  pendings: StatusDetail[];
}

interface Entry {
  owner: string | null;
  root: string;
  resource: StatusResource;
}

/**
 * The status resources of recent POSTs, in memory, the oldest dropped first past `capacity`.
 * A status is answered only to the key that made the POST, under the same API root; to anyone
 * else it does not exist.
 */
export class StatusBook {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  add(owner: string | null, root: string, r: Omit<StatusResource, 'id'>): StatusResource {
    const resource = { id: randomUUID(), ...r };
    this.entries.set(resource.id, { owner, root, resource });
    // the oldest entries go first (a Map iterates in insertion order)
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(id);
    }
    return resource;
  }

  get(id: string, owner: string | null, root: string): StatusResource | undefined {
    const e = this.entries.get(id);
    return e && e.owner === owner && e.root === root ? e.resource : undefined;
  }
}
