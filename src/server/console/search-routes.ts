import type { FastifyInstance } from 'fastify';
import { html } from 'ghtml';
import { viewOf } from '../../access/view.js';
import { filterKey, parseFilter } from '../../search/filter.js';
import { searchPage } from '../../search/pages.js';
import { ApiError } from '../errors.js';
import { OBJECT_ID_PARAMS } from '../objects.js';
import { provenanceOf } from '../provenance.js';
import { scoreHistoryOf } from '../score-history.js';
import { historySection } from './history-page.js';
import type { ConsoleKit } from './kit.js';
import { principalOf, type Principal } from '../auth.js';
import type { StixObject } from '../../core/stix.js';
import { objectObservables } from '../../core/object-observables.js';
import { deliveriesTable } from './why-pages.js';
import { ledgerAnswer } from './why-routes.js';
import {
  FORM_FIELDS,
  errorBox,
  nameOf,
  objectBody,
  resultsTable,
  searchForm,
  type SearchForm,
} from './search-pages.js';

/** Rows per console search page. */
export const CONSOLE_PAGE_SIZE = 50;

const str = (max: number) => ({ type: 'string', maxLength: max }) as const;
const searchQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    value: str(2048),
    type: str(1024),
    source: str(256),
    label: str(256),
    tlp: str(1024),
    min_score: str(3),
    state: str(64),
    cursor: str(2048),
  },
} as const;

/**
 * `/console/search` and `/console/objects/:id` (the `search` scope): the search API's filters,
 * paging and views (src/search, `viewOf`) rendered as pages. An object the key cannot see is a
 * 404, as an unknown id is.
 */
export function searchRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const search = kit.guard.require('search');

  app.get<{ Querystring: SearchForm & { cursor?: string } }>(
    '/console/search',
    { onRequest: search, schema: { hide: true, querystring: searchQuery } },
    async (req, reply) => {
      const { cursor, ...form } = req.query;
      const parsed = parseFilter(form);
      if (!parsed.ok) return kit.render(req, reply, 'Search', searchForm(form) + errorBox(parsed.message), 400);
      const ceiling = principalOf(req).maxTlp;
      const scope = { filter: filterKey(parsed.filter), ceiling };
      let after: string | undefined;
      if (cursor !== undefined && cursor !== '') {
        after = kit.cursors.open(cursor, scope);
        if (after === undefined)
          return kit.render(
            req,
            reply,
            'Search',
            searchForm(form) +
              errorBox(
                'This next-page link is not valid for these filters (or was made for another key ceiling). Search again.',
              ),
            400,
          );
      }
      const result = await searchPage(
        kit.store,
        parsed.filter,
        { ceiling, policy: kit.policy },
        { limit: CONSOLE_PAGE_SIZE, after },
      );
      let nextHref: string | undefined;
      if (result.next !== undefined) {
        const q = new URLSearchParams();
        for (const f of FORM_FIELDS) {
          const v = form[f];
          if (v) q.set(f, v);
        }
        q.set('cursor', kit.cursors.seal(result.next, scope));
        nextHref = `/console/search?${q.toString()}`;
      }
      return kit.render(req, reply, 'Search', searchForm(form) + resultsTable(result.objects, nextHref));
    },
  );
  kit.route({ url: '/console/search', methods: ['GET'], onRequest: [search] });

  app.get<{ Params: { id: string } }>(
    '/console/objects/:id',
    {
      onRequest: search,
      schema: {
        hide: true,
        params: OBJECT_ID_PARAMS,
      },
    },
    async (req, reply) => {
      const ceiling = principalOf(req).maxTlp;
      const stored = await kit.store.get(req.params.id);
      const view = stored && viewOf(stored, ceiling, kit.policy);
      if (!view) throw new ApiError(404, 'STIXGATE_ERR_API_NOT_FOUND', 'no such object');
      const related: Record<string, string[]> | undefined = await kit.correlator?.summary(view.id, ceiling);
      const nonEmpty = related && Object.fromEntries(Object.entries(related).filter(([, v]) => v.length > 0));
      const ledger = await ledgerSection(kit, view, principalOf(req));
      return kit.render(
        req,
        reply,
        `${view.type} ${nameOf(view)}`.slice(0, 200),
        objectBody(
          view,
          provenanceOf(view, kit.policy),
          nonEmpty,
          ledger,
          historySection(await scoreHistoryOf(kit.store, stored, ceiling, kit.policy)),
        ) + html`<p><a href="/console/search">← Search</a></p>`,
      );
    },
  );
  kit.route({ url: '/console/objects/:id', methods: ['GET'], onRequest: [search] });
}

/** Values of one object whose deliveries the object page lists at most. */
const LEDGER_VALUES = 5;

/** The delivery ledger of the object's values (the `lookup` scope reads it, as on the API). */
async function ledgerSection(kit: ConsoleKit, view: StixObject, p: Principal): Promise<string> {
  if (!p.scopes.has('lookup'))
    return html`<p class="muted">The delivery ledger needs the <code>lookup</code> scope, which this key lacks.</p>`;
  const values = [...new Set(objectObservables(view).map((o) => o.value))].slice(0, LEDGER_VALUES);
  if (values.length === 0)
    return html`<p class="muted">This object stands for no observable value: sinks receive none.</p>`;
  const parts: string[] = [];
  for (const value of values) {
    const { answer, missing } = await ledgerAnswer(kit, value, p.maxTlp);
    parts.push(
      html`<h3 class="value">${value} <a href="/console/why?value=${encodeURIComponent(value)}">why?</a></h3>!${answer ? deliveriesTable(answer) : html`<p class="notice">${missing}</p>`}`,
    );
  }
  return parts.join('');
}
