import type { Logger } from '../telemetry/logger.js';

type Bindings = Record<string, unknown>;
type LogFn = (...args: unknown[]) => void;

/**
 * A request's child logger, built on first use. Fastify makes a child (with the request id
 * bound) for every request; with pino and its redaction that costs more than a cache-resident
 * lookup, and on the happy path of the lookup API nothing logs. Calls are forwarded unchanged to
 * the real `logger.child(bindings, opts)`, so a line that is logged is the same as before.
 */
export class LazyChildLogger {
  private real: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly opts: object,
  ) {}

  get logger(): Logger {
    this.real ??= this.parent.child(this.bindings, this.opts);
    return this.real;
  }
  get level(): string {
    return this.real ? this.real.level : ((this.opts as { level?: string }).level ?? this.parent.level);
  }
  set level(l: string) {
    this.logger.level = l;
  }
  fatal(...a: unknown[]): void {
    const l = this.logger;
    (l.fatal as LogFn).apply(l, a);
  }
  error(...a: unknown[]): void {
    const l = this.logger;
    (l.error as LogFn).apply(l, a);
  }
  warn(...a: unknown[]): void {
    const l = this.logger;
    (l.warn as LogFn).apply(l, a);
  }
  info(...a: unknown[]): void {
    const l = this.logger;
    (l.info as LogFn).apply(l, a);
  }
  debug(...a: unknown[]): void {
    const l = this.logger;
    (l.debug as LogFn).apply(l, a);
  }
  trace(...a: unknown[]): void {
    const l = this.logger;
    (l.trace as LogFn).apply(l, a);
  }
  silent(): void {}
  child(bindings: Bindings, opts?: object): Logger {
    return this.logger.child(bindings, opts);
  }
  isLevelEnabled(level: string): boolean {
    return this.logger.isLevelEnabled(level);
  }
}

/** Fastify `childLoggerFactory`: a lazy child per request. */
export function lazyChildLogger(parent: Logger, bindings: Bindings, opts: object): LazyChildLogger {
  return new LazyChildLogger(parent, bindings, opts);
}
