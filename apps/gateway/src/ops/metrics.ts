import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one gateway process (GET /metrics). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly received = new Counter({ name: 'efa_messages_received_total', help: 'Messages received, by tenant and outcome', labelNames: ['tenant', 'outcome'], registers: [this.registry] });
  readonly rejected = new Counter({ name: 'efa_messages_rejected_total', help: 'Messages rejected, by OSCI code', labelNames: ['tenant', 'code'], registers: [this.registry] });
  readonly stageDuration = new Histogram({
    name: 'efa_stage_duration_seconds',
    help: 'Duration of pipeline stages',
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({ name: 'efa_dead_letters_total', help: 'Deliveries moved to the dead-letter state', labelNames: ['connector', 'code'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'efa_queue_depth', help: 'Jobs waiting or delayed per queue', labelNames: ['queue'], registers: [this.registry] });
  readonly openQueue = new Gauge({ name: 'efa_open_tasks_waiting', help: 'Received messages waiting for an open/verify/answer worker thread', registers: [this.registry] });
  readonly memoryReserved = new Gauge({ name: 'efa_memory_budget_reserved_bytes', help: 'Bytes of the large-message memory budget reserved right now', registers: [this.registry] });
  readonly memoryWaiting = new Gauge({ name: 'efa_memory_budget_waiting', help: 'Stages of large messages waiting for the memory budget', registers: [this.registry] });
  readonly openUtilization = new Gauge({ name: 'efa_open_threads_utilization', help: 'Share of time the open/verify/answer worker threads were busy (0..1)', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'efa_' });
  }
}
