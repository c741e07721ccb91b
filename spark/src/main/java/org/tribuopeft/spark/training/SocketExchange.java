package org.tribuopeft.spark.training;

import org.tribuopeft.adapters.train.ReplicaExchange;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An all-gather over direct TCP connections between the barrier tasks, with rank 0 as the hub: every replica sends
 * its message to rank 0, which sends all messages back to every replica in rank order. Raw bytes (no Base64) and
 * no driver in the path; above all, no 1 s polling: Spark's own {@code allGather} sleeps in 1 s steps while it
 * waits. Rank 0's address travels once through the barrier all-gather. A lost peer breaks the connection, the task
 * fails and the barrier stage fails as with the barrier transport.
 */
final class SocketExchange extends ExchangeStats implements ReplicaExchange, AutoCloseable {
    private static final int TIMEOUT_MILLIS = 30 * 60 * 1000;

    private final int rank;
    private final int workers;
    private final ServerSocket server;
    private final List<Socket> peers = new ArrayList<>();
    private final List<DataInputStream> ins = new ArrayList<>();
    private final List<DataOutputStream> outs = new ArrayList<>();

    private SocketExchange(int rank, int workers, ServerSocket server) {
        this.rank = rank;
        this.workers = workers;
        this.server = server;
    }

    /**
     * Connects the replicas: rank 0 listens on every interface and sends {@code host} and its port through
     * {@code bootstrap}; the others connect and introduce themselves by rank.
     *
     * @param host the address the other replicas reach rank 0's executor at
     */
    static SocketExchange connect(ReplicaExchange bootstrap, int rank, int workers, String host) {
        try {
            if (rank == 0) {
                ServerSocket server = new ServerSocket();
                server.bind(new InetSocketAddress(0));
                server.setSoTimeout(TIMEOUT_MILLIS);
                SocketExchange ex = new SocketExchange(rank, workers, server);
                String address = host + ":" + server.getLocalPort();
                bootstrap.allGather(address.getBytes(StandardCharsets.UTF_8));
                Socket[] byRank = new Socket[workers];
                for (int i = 1; i < workers; i++) {
                    Socket s = server.accept();
                    int peer = new DataInputStream(s.getInputStream()).readInt();
                    if (peer < 1 || peer >= workers || byRank[peer] != null) {
                        s.close();
                        throw new IllegalStateException("a connection introduced itself as replica " + peer);
                    }
                    byRank[peer] = s;
                }
                for (int r = 1; r < workers; r++) {
                    ex.add(byRank[r]);
                }
                return ex;
            }
            String address = new String(bootstrap.allGather(new byte[0]).get(0), StandardCharsets.UTF_8);
            int colon = address.lastIndexOf(':');
            Socket s = new Socket();
            s.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                    60_000);
            SocketExchange ex = new SocketExchange(rank, workers, null);
            ex.add(s);
            ex.outs.get(0).writeInt(rank);
            ex.outs.get(0).flush();
            return ex;
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + rank + " cannot connect to the other replicas: "
                    + e.getMessage(), e);
        }
    }

    private void add(Socket s) throws IOException {
        s.setSoTimeout(TIMEOUT_MILLIS);
        s.setTcpNoDelay(true);
        peers.add(s);
        ins.add(new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16)));
        outs.add(new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16)));
    }

    @Override
    public List<byte[]> allGather(byte[] message) {
        try {
            if (rank == 0) {
                List<byte[]> all = new ArrayList<>(workers);
                all.add(message);
                for (DataInputStream in : ins) {
                    all.add(read(in));
                }
                for (DataOutputStream out : outs) {
                    for (byte[] m : all) {
                        write(out, m);
                    }
                    out.flush();
                }
                return all;
            }
            write(outs.get(0), message);
            outs.get(0).flush();
            List<byte[]> all = new ArrayList<>(workers);
            for (int r = 0; r < workers; r++) {
                all.add(read(ins.get(0)));
            }
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + rank + " lost its connection to the other replicas: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public float[] sumInRankOrder(float[] local) {
        long start = System.nanoTime();
        byte[] mine = ReplicaExchange.floatsToBytes(local);
        List<byte[]> all = allGather(mine);
        float[] sum = ReplicaExchange.sum(all, local.length);
        long total = all.stream().mapToLong(m -> m.length).sum();
        // rank 0 receives every other message and sends every message to every other replica
        recordExchange(start, rank == 0 ? total * (workers - 1) : mine.length, rank == 0 ? total - mine.length : total);
        return sum;
    }

    private static void write(DataOutputStream out, byte[] m) throws IOException {
        out.writeInt(m.length);
        out.write(m);
    }

    private static byte[] read(DataInputStream in) throws IOException {
        byte[] m = new byte[in.readInt()];
        in.readFully(m);
        return m;
    }

    @Override
    public void close() {
        for (Socket s : peers) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }
    }
}
