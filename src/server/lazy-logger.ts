import type { Logger } from '../telemetry/logger.js';

type Bindings = Record<string, unknown>;

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
    if (this.real) return this.real.level;
    const level = 'level' in this.opts ? this.opts.level : undefined;
    return typeof level === 'string' ? level : this.parent.level;
  }
  set level(l: string) {
    this.logger.level = l;
  }
  fatal(...a: unknown[]): void {
    const l = this.logger;
    Reflect.apply(l.fatal, l, a);
  }
  error(...a: unknown[]): void {
    const l = this.logger;
    Reflect.apply(l.error, l, a);
  }
  warn(...a: unknown[]): void {
    const l = this.logger;
    Reflect.apply(l.warn, l, a);
  }
  info(...a: unknown[]): void {
    const l = this.logger;
    Reflect.apply(l.info, l, a);
  }
  debug(...a: unknown[]): void {
    const l = this.logger;
    Reflect.apply(l.debug, l, a);
  }
  trace(...a: unknown[]): void {
    const l = this.logger;
    Reflect.apply(l.trace, l, a);
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
