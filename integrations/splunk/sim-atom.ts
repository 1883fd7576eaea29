/**
 * Splunk EAI answers in the two forms splunkd uses: Atom XML (the default, parsed by the official
 * Python SDK) and `output_mode=json` ({entry, paging, messages}). Splunk's REST API reference.
 */

export type EaiValue = string | number | boolean | EaiValue[] | { [k: string]: EaiValue };

export interface EaiEntry {
  name: string;
  /** Path of the entry, e.g. /servicesNS/nobody/search/storage/collections/config/x */
  path: string;
  owner: string;
  app: string;
  sharing: string;
  content: Record<string, EaiValue>;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function xmlValue(v: EaiValue): string {
  if (Array.isArray(v)) return `<s:list>${v.map((i) => `<s:item>${xmlValue(i)}</s:item>`).join('')}</s:list>`;
  if (typeof v === 'object') return xmlDict(v);
  return esc(typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
}

function xmlDict(d: Record<string, EaiValue>): string {
  return `<s:dict>${Object.entries(d)
    .map(([k, v]) => `<s:key name="${esc(k)}">${xmlValue(v)}</s:key>`)
    .join('')}</s:dict>`;
}

function acl(e: EaiEntry): Record<string, EaiValue> {
  return {
    app: e.app,
    owner: e.owner,
    sharing: e.sharing,
    can_write: '1',
    modifiable: '1',
    removable: '1',
    can_list: '1',
    can_share_app: '1',
    perms: { read: ['*'], write: ['*'] },
  };
}

function atomEntry(base: string, e: EaiEntry, updated: string): string {
  const links = ['alternate', 'list', 'edit', 'remove']
    .map((rel) => `<link href="${esc(e.path)}" rel="${rel}"/>`)
    .join('');
  return `<entry><title>${esc(e.name)}</title><id>${esc(base + e.path)}</id><updated>${updated}</updated>${links}<author><name>${esc(e.owner)}</name></author><content type="text/xml">${xmlDict({ ...e.content, 'eai:acl': acl(e) })}</content></entry>`;
}

export function atomFeed(base: string, title: string, feedPath: string, entries: EaiEntry[], version: string): string {
  const updated = new Date().toISOString();
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">' +
    `<title>${esc(title)}</title><id>${esc(base + feedPath)}</id><updated>${updated}</updated>` +
    `<generator build="stixgate-sim" version="${esc(version)}"/><author><name>Splunk</name></author>` +
    `<opensearch:totalResults>${entries.length}</opensearch:totalResults><opensearch:itemsPerPage>30</opensearch:itemsPerPage><opensearch:startIndex>0</opensearch:startIndex><s:messages/>` +
    entries.map((e) => atomEntry(base, e, updated)).join('') +
    '</feed>'
  );
}

export function jsonFeed(base: string, entries: EaiEntry[]): unknown {
  const updated = new Date().toISOString();
  return {
    links: {},
    origin: base,
    updated,
    generator: { build: 'stixgate-sim' },
    entry: entries.map((e) => ({
      name: e.name,
      id: base + e.path,
      updated,
      links: { alternate: e.path },
      author: e.owner,
      acl: acl(e),
      content: e.content,
    })),
    paging: { total: entries.length, perPage: 30, offset: 0 },
    messages: [],
  };
}

/** Splunk REST message body, XML form. */
export function xmlMessages(type: string, text: string, code?: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<response><messages><msg type="${esc(type)}"${code ? ` code="${esc(code)}"` : ''}>${esc(text)}</msg></messages></response>`;
}

export function xmlSessionKey(key: string): string {
  return `<response>\n  <sessionKey>${esc(key)}</sessionKey>\n</response>\n`;
}
