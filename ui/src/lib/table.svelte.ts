// The state of a table the core filters, sorts and pages: its query, the page shown, and
// the actions of its filters, headings and pager. A late answer to an older query is
// dropped, so the page always matches what the filters say.
export class TableState<Q extends { offset: number; sort: string; descending: boolean }, P> {
  query: Q = $state() as Q;
  page: P | null = $state(null);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #fetch: (q: Q) => Promise<P>;

  constructor(initial: Q, fetch: (q: Q) => Promise<P>) {
    this.query = initial;
    this.#fetch = fetch;
  }

  /** Asks the core for the page the query describes. */
  load = async () => {
    const asked = { ...this.query };
    const result = await this.#fetch(asked);
    if (JSON.stringify(asked) === JSON.stringify(this.query)) this.page = result;
  };

  /** A filter changed: back to the first page, once the typing pauses. */
  refilter = () => {
    this.query.offset = 0;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.load, 150);
  };

  /** A heading was clicked. */
  sortBy = (column: string, descending: boolean) => {
    this.query.sort = column;
    this.query.descending = descending;
    this.query.offset = 0;
    this.load();
  };

  /** The pager moved. */
  goto = (offset: number) => {
    this.query.offset = offset;
    this.load();
  };
}
