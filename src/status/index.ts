import { assessCertificates } from '../domain/certificate.js';
import { deviceMatcher } from '../domain/device-match.js';
import type { FleetAudit } from '../audit/fleet-audit.js';
import { CERTIFICATE_STATES, type ChangeEvent, type Thresholds } from '../domain/types.js';
import { reportCertificate, type ReportCertificate } from '../scan/report.js';
import type { ScanSummary } from '../scan/types.js';
import type { HttpAnswer, HttpRoutes } from '../server/http-server.js';
import type { FleetView } from '../state/fleet-view.js';
import type { HistoryQuery } from '../state/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { CertificateIndex } from './certificate-index.js';
import { ACTION_STATES, FleetSummary, type Picked } from './fleet-summary.js';
import { renderPage, type FailingDevice, type PageFilter } from './page.js';
import { PAGE_STYLE_SOURCE } from './page-style.js';
import { BadQuery, integerParameter, offsetParameter, queryParameters, statesParameter, textParameter } from './query.js';

export interface StatusPageDeps {
  readonly fleet: FleetView;
  /** The store's change history, newest first (it may reject or hang while the store is down). */
  readonly history: (query: HistoryQuery) => Promise<ChangeEvent[]>;
  readonly thresholds: Thresholds;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long the page waits for the history before saying it is unavailable (default 2 s). */
  readonly historyTimeoutMs?: number;
  /** Whether this replica scans; a standby shows what the leader stored (default: it scans). */
  readonly leader?: () => boolean;
  /** The certificate audit: listed certificates carry its findings and PEM fields, as in `scan --format json`. */
  readonly audit?: Pick<FleetAudit, 'fields'>;
}

/** GET / and /api/v1/*, served next to /metrics; told about every finished scan. */
export interface StatusPage extends HttpRoutes {
  scanFinished(summary: ScanSummary): void;
}

const PAGE_CSP = `default-src 'none'; style-src ${PAGE_STYLE_SOURCE}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";
const COMMON_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
const PATHS = ['/', '/api/v1/certificates', '/api/v1/changes', '/api/v1/status'];
const PAGE_CHANGES = 20;
const PAGE_FAILING = 100;
const DEFAULT_HISTORY_TIMEOUT_MS = 2_000;

/** The status page and JSON API over the fleet view (an index kept in step with it) and the store's history. */
export function createStatusPage(deps: StatusPageDeps): StatusPage {
  return new StatusService(deps);
}

class StatusService implements StatusPage {
  readonly #deps: StatusPageDeps;
  readonly #index: CertificateIndex;
  readonly #log: Logger;
  #lastScan: ScanSummary | undefined;

  constructor(deps: StatusPageDeps) {
    this.#deps = deps;
    this.#index = new CertificateIndex(deps.fleet);
    this.#log = deps.log.child({ component: 'status' });
  }

  scanFinished(summary: ScanSummary): void {
    this.#lastScan = summary;
  }

  serves(path: string): boolean {
    return path === '/' || path === '/api' || path.startsWith('/api/');
  }

  async answer(method: string, path: string, search: string): Promise<HttpAnswer> {
    if (!PATHS.includes(path)) return json(404, { error: 'not found; the API has /api/v1/certificates, /api/v1/changes and /api/v1/status' });
    if (method !== 'GET' && method !== 'HEAD') {
      return json(405, { error: `method ${method.slice(0, 16)} not allowed; use GET` }, { Allow: 'GET, HEAD' });
    }
    try {
      if (path === '/') return await this.#page(search);
      if (path === '/api/v1/certificates') return json(200, this.#certificates(search));
      if (path === '/api/v1/changes') return await this.#changes(search);
      return json(200, this.#status(search));
    } catch (error) {
      if (error instanceof BadQuery) return json(400, { error: error.message });
      throw error;
    }
  }

  async #page(search: string): Promise<HttpAnswer> {
    const values = queryParameters(search, ['org', 'state', 'limit', 'offset']);
    // The filter form sends its "all" choices as empty values.
    for (const name of ['org', 'state']) if (values.get(name) === '') values.delete(name);
    const org = textParameter(values, 'org');
    const [state, ...more] = statesParameter(values, ACTION_STATES);
    if (more.length > 0) throw new BadQuery(`state on the page is one of ${ACTION_STATES.join(', ')}`);
    const filter: PageFilter = {
      ...(org === undefined ? {} : { org }),
      ...(state === undefined ? {} : { state }),
      offset: offsetParameter(values),
      limit: integerParameter(values, 'limit', { min: 1, max: 1000, fallback: 50 }),
      explicitLimit: values.has('limit'),
    };
    const history = this.#recentChanges({ limit: PAGE_CHANGES });
    const now = this.#deps.clock.now();
    const summary = this.#summary(now);
    const { selection, counts, forecast } = summary.overview({
      org,
      states: state === undefined ? ACTION_STATES : [state],
      withoutSuperseded: true,
      offset: filter.offset,
      limit: filter.limit,
    });
    const body = renderPage({
      now,
      thresholds: this.#deps.thresholds,
      filter,
      orgs: summary.orgs(),
      counts,
      forecast,
      action: { total: selection.total, certificates: this.#listed(selection.picked, now) },
      failing: this.#failing(org),
      changes: await history,
      lastScan: this.#lastScan,
      leader: this.#leader(),
    });
    return { status: 200, contentType: 'text/html; charset=utf-8', body, headers: { ...COMMON_HEADERS, 'Content-Security-Policy': PAGE_CSP } };
  }

  #certificates(search: string): { total: number; certificates: ReportCertificate[] } {
    const values = queryParameters(search, ['state', 'org', 'limit', 'offset']);
    const now = this.#deps.clock.now();
    const selection = this.#summary(now).select({
      org: textParameter(values, 'org'),
      states: statesParameter(values, CERTIFICATE_STATES),
      withoutSuperseded: false,
      offset: offsetParameter(values),
      limit: integerParameter(values, 'limit', { min: 1, max: 1000, fallback: 100 }),
    });
    return { total: selection.total, certificates: this.#listed(selection.picked, now) };
  }

  async #changes(search: string): Promise<HttpAnswer> {
    const values = queryParameters(search, ['device', 'limit']);
    const device = textParameter(values, 'device');
    const limit = integerParameter(values, 'limit', { min: 1, max: 1000, fallback: 100 });
    const changes = await this.#recentChanges({ limit, ...(device === undefined ? {} : { matches: deviceMatcher(device) }) });
    if (changes === 'unavailable') return json(503, { error: 'history unavailable: the store did not answer' });
    return json(200, { changes });
  }

  #status(search: string): object {
    queryParameters(search, []);
    const scan = this.#lastScan;
    return {
      leader: this.#leader(),
      lastScan:
        scan === undefined
          ? null
          : { startedAt: new Date(scan.startedAt).toISOString(), finishedAt: new Date(scan.finishedAt).toISOString(), result: scan.result, devices: scan.devices },
      ...this.#summary(this.#deps.clock.now()).counts(),
    };
  }

  #leader(): boolean {
    return this.#deps.leader?.() ?? true;
  }

  #summary(now: number): FleetSummary {
    return new FleetSummary(this.#index.view(), now, this.#deps.thresholds);
  }

  /** The picked certificates as `scan --format json` shows them, from the current records. */
  #listed(picked: readonly Picked[], now: number): ReportCertificate[] {
    const listed: ReportCertificate[] = [];
    for (const { deviceId, position } of picked) {
      const record = this.#deps.fleet.get(deviceId);
      const assessed = record && assessCertificates(record.certificates, now, this.#deps.thresholds)[position];
      if (record !== undefined && assessed !== undefined) {
        listed.push(reportCertificate(record, assessed, this.#deps.audit?.fields(assessed.cert, assessed.state, now)));
      }
    }
    return listed;
  }

  #failing(org: string | undefined): { total: number; devices: FailingDevice[] } {
    const devices: FailingDevice[] = [];
    let total = 0;
    for (const [id, reason] of this.#index.failures()) {
      const record = this.#deps.fleet.get(id);
      if (record === undefined || (org !== undefined && record.device.orgId !== org)) continue;
      if (devices.length < PAGE_FAILING) devices.push({ device: record.device, reason, lastAnswerAt: record.lastAnswerAt });
      total++;
    }
    return { total, devices };
  }

  /** The newest changes, or 'unavailable' when the store fails or does not answer in time. */
  async #recentChanges(query: HistoryQuery): Promise<ChangeEvent[] | 'unavailable'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'unavailable'>((resolve) => {
      timer = setTimeout(() => resolve('unavailable'), this.#deps.historyTimeoutMs ?? DEFAULT_HISTORY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.#deps.history(query), timeout]);
    } catch (error) {
      this.#log.debug({ err: error }, 'history unavailable');
      return 'unavailable';
    } finally {
      clearTimeout(timer);
    }
  }
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return {
    status,
    contentType: 'application/json; charset=utf-8',
    body: `${JSON.stringify(value)}\n`,
    headers: { ...COMMON_HEADERS, 'Content-Security-Policy': JSON_CSP, ...headers },
  };
}
