/**
 * Teardown registry: every resource the lab creates registers its undo right after creation, and
 * `runAll` undoes them newest first. Each undo is bounded and isolated, so one failing undo never
 * leaves the others undone (a half-torn-down lab would break the next CI run).
 */
export class Teardown {
  private readonly undos: { name: string; fn: () => Promise<void> }[] = [];

  add(name: string, fn: () => Promise<void>): void {
    this.undos.push({ name, fn });
  }

  get size(): number {
    return this.undos.length;
  }

  async runAll(log: (line: string) => void, perUndoTimeoutMs = 60_000): Promise<string[]> {
    const failures: string[] = [];
    while (this.undos.length > 0) {
      const { name, fn } = this.undos.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          fn(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${perUndoTimeoutMs} ms`)), perUndoTimeoutMs);
          }),
        ]);
        log(`  undone: ${name}`);
      } catch (err) {
        const msg = `${name}: ${err instanceof Error ? err.message : String(err)}`;
        failures.push(msg);
        log(`  undo FAILED: ${msg}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return failures;
  }
}
