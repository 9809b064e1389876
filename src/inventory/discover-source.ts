import type { DeviceRef } from '../domain/types.js';
import type { EnosApi } from '../enos/api.js';
import { EnosApiError } from '../enos/outcome.js';
import type { SourceContext } from './problem.js';

/** How many pages beyond the first page's count may follow before the server is thought to loop. */
const EXTRA_PAGES = 5;

export interface DiscoverEntry {
  readonly orgId: string;
  readonly expression?: string | undefined;
}

/**
 * Every device Search Device returns for one entry, page by page: a page's devices are yielded
 * before the next page is fetched. Pages come newest first, so devices created meanwhile push
 * others onto the next page and they come twice; the caller's de-duplication drops the repeats.
 * A failing page ends the entry and is reported; what was yielded stays.
 */
export async function* discoverDevices(
  entry: DiscoverEntry,
  api: Pick<EnosApi, 'searchDevices'>,
  { report, signal }: SourceContext,
): AsyncGenerator<DeviceRef> {
  const { orgId, expression } = entry;
  let maxPages = Infinity;
  let found = 0;
  for (let pageNo = 1; ; pageNo++) {
    signal?.throwIfAborted();
    let page;
    try {
      page = await api.searchDevices(orgId, expression, pageNo, signal);
    } catch (error) {
      signal?.throwIfAborted();
      report.sourceFailed({
        source: 'discover',
        orgId,
        reason: error instanceof EnosApiError ? error.outcome : 'error',
        message: `discover ${orgId}: page ${pageNo} failed: ${(error as Error).message}`,
      });
      return;
    }
    found += page.devices.length;
    yield* page.devices;
    if (page.devices.length === 0 || pageNo * page.pageSize >= page.totalSize) {
      if (found === 0) report.sourceSuspicious(nothingFound(entry));
      return;
    }
    // Fixed from the first answer: a total that keeps growing must not keep the loop going.
    if (pageNo === 1) maxPages = Math.ceil(page.totalSize / page.pageSize) + EXTRA_PAGES;
    if (pageNo >= maxPages) {
      report.sourceFailed({
        source: 'discover',
        orgId,
        reason: 'page_limit',
        message: `discover ${orgId}: stopped after ${pageNo} pages; the result kept growing or never ended`,
      });
      return;
    }
  }
}

function nothingFound({ orgId, expression }: DiscoverEntry) {
  const filter = expression === undefined ? '' : ` matching "${expression}"`;
  return {
    source: 'discover' as const,
    orgId,
    reason: 'no_devices',
    message:
      `discover ${orgId}: Search Device found no device${filter}; check the orgId` +
      `${expression === undefined ? '' : ' and the expression'}, and that the application may call Search Device in this organisation`,
  };
}
