package org.tribuopeft.spark.training;

import org.apache.spark.BarrierTaskContext;
import org.tribuopeft.adapters.train.ReplicaExchange;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The replicas' all-gather over Spark's barrier RPC: each message goes as Base64 text through
 * {@link BarrierTaskContext#allGather(String)}, which the driver collects and sends back to every task ordered by
 * partition (= rank). Counts what the gradient exchanges cost, for the benchmark.
 */
final class BarrierExchange extends ExchangeStats implements ReplicaExchange {
    private final BarrierTaskContext context;

    BarrierExchange(BarrierTaskContext context) {
        this.context = context;
    }

    @Override
    public List<byte[]> allGather(byte[] message) {
        String[] all = context.allGather(Base64.getEncoder().encodeToString(message));
        List<byte[]> out = new ArrayList<>(all.length);
        for (String s : all) {
            out.add(Base64.getDecoder().decode(s));
        }
        return out;
    }

    @Override
    public float[] sumInRankOrder(float[] local) {
        long start = System.nanoTime();
        String mine = Base64.getEncoder().encodeToString(ReplicaExchange.floatsToBytes(local));
        String[] all = context.allGather(mine);
        List<byte[]> decoded = new ArrayList<>(all.length);
        long received = 0;
        for (String s : all) {
            decoded.add(Base64.getDecoder().decode(s));
            received += s.length();
        }
        float[] sum = ReplicaExchange.sum(decoded, local.length);
        recordExchange(start, mine.length(), received);
        return sum;
    }

}
