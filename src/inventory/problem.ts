/** Which part of the inventory config a problem came from. */
export type InventorySource = 'devices' | 'file' | 'discover';

/** Something the inventory skipped or could not read; also logged. */
export interface InventoryProblem {
  readonly source: InventorySource;
  readonly file?: string;
  /** 1-based line where an invalid CSV row starts. */
  readonly line?: number;
  /** 0-based position of an invalid item in a JSON array. */
  readonly index?: number;
  readonly orgId?: string;
  /**
   * `invalid_row`; a file failure (`unreadable`, `invalid_json`, `not_an_array`, `no_header`,
   * `unsupported_type`); for discovery the API outcome of the failed page, or `page_limit`;
   * `no_devices` (a warning): a discovery that found nothing.
   */
  readonly reason: string;
  readonly message: string;
  /** Set when the source was read in full and the problem is only worth a warning. */
  readonly warning?: true;
}

/** Where an invalid entry sits in its file. */
export type RowPosition = { readonly line: number } | { readonly index: number };

/** How a source tells the inventory what went wrong. */
export interface ProblemReport {
  /** One entry skipped; the rest of its source still loads. */
  rowSkipped(file: string, position: RowPosition, detail: string): void;
  /** The source stopped early or could not be read, so the inventory is incomplete. */
  sourceFailed(problem: InventoryProblem): void;
  /** The source was read in full but looks wrong (e.g. found no device): worth a warning. */
  sourceSuspicious(problem: InventoryProblem): void;
}

/** What every source is given. */
export interface SourceContext {
  readonly report: ProblemReport;
  readonly signal?: AbortSignal;
}
