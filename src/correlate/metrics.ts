// the correlation metrics are declared in the telemetry catalogue
export { CorrelationMetrics } from '../telemetry/correlation-metrics.js';
