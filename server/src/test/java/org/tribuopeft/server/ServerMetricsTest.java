package org.tribuopeft.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Prometheus text: cumulative buckets, sums, counts, escaped labels and the gauges' current values. */
class ServerMetricsTest {

    @Test
    void histogramsAreCumulativeAndCountersCount() {
        ServerMetrics m = new ServerMetrics();
        m.request("POST /v1/predict", 200, 0.003);
        m.request("POST /v1/predict", 200, 0.2);
        m.request("POST /v1/predict", 413, 0.001);
        m.request("GET \"odd\"", 404, 0.001);
        m.batch(3, 40, 2);
        m.batch(20, 300, 9);
        m.cacheHit();
        m.cacheHit();
        m.cacheMiss();
        m.loaded();
        m.evicted();
        m.gauges(() -> 7, () -> 2048, () -> 3);
        String text = m.prometheusText();
        for (String line : new String[] {
            "tribuo_peft_requests_total{route=\"POST /v1/predict\",code=\"200\"} 2",
            "tribuo_peft_requests_total{route=\"POST /v1/predict\",code=\"413\"} 1",
            "tribuo_peft_requests_total{route=\"GET \\\"odd\\\"\",code=\"404\"} 1",
            "tribuo_peft_request_duration_seconds_bucket{route=\"POST /v1/predict\",le=\"0.005\"} 2",
            "tribuo_peft_request_duration_seconds_bucket{route=\"POST /v1/predict\",le=\"0.1\"} 2",
            "tribuo_peft_request_duration_seconds_bucket{route=\"POST /v1/predict\",le=\"0.25\"} 3",
            "tribuo_peft_request_duration_seconds_bucket{route=\"POST /v1/predict\",le=\"+Inf\"} 3",
            "tribuo_peft_request_duration_seconds_count{route=\"POST /v1/predict\"} 3",
            "tribuo_peft_batch_rows_bucket{le=\"4\"} 1",
            "tribuo_peft_batch_rows_bucket{le=\"16\"} 1",
            "tribuo_peft_batch_rows_bucket{le=\"32\"} 2",
            "tribuo_peft_batch_rows_sum 23",
            "tribuo_peft_batch_adapters_bucket{le=\"8\"} 1",
            "tribuo_peft_batch_tokens_sum 340",
            "tribuo_peft_adapter_cache_hits_total 2",
            "tribuo_peft_adapter_cache_misses_total 1",
            "tribuo_peft_adapter_loads_total 1",
            "tribuo_peft_adapter_evictions_total 1",
            "tribuo_peft_resident_adapters 7",
            "tribuo_peft_resident_adapter_bytes 2048",
            "tribuo_peft_queue_depth 3",
            "# TYPE tribuo_peft_batch_rows histogram"}) {
            assertTrue(text.contains(line + "\n"), "missing '" + line + "' in\n" + text);
        }
    }
}
