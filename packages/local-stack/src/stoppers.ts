/** What a start-up started, to be stopped in reverse order; used by the stack and the pipeline alike. */
export class Stoppers {
  private readonly stops: Array<() => Promise<void>> = [];

  push(...stops: Array<() => Promise<void>>): void {
    this.stops.push(...stops);
  }

  /** Stops everything pushed, last first and each once, trying every one: rejects with an AggregateError of all failures. */
  async stopAll(what: string): Promise<void> {
    const errors: unknown[] = [];
    for (const stop of this.stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length) throw new AggregateError(errors, `some parts of ${what} did not stop cleanly`);
  }
}
