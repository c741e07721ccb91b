package org.tribuopeft.adapters.train;

import org.tribuopeft.adapters.checkpoint.CheckpointReader;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the replicas of a data-parallel run agree on through their exchange besides gradients: the data (so a replica
 * given other data fails at the start) and the checkpoint they all resume from.
 */
final class ReplicaAgreement {
    private ReplicaAgreement() {}

    /**
     * The SHA-256 of every shard's data SHA-256 in rank order, the same on every replica. Replicas exchange their
     * shard's size and digest, and each checks every size against the layout, so a replica given other data fails
     * at the start rather than training a different model.
     */
    static String dataDigest(ShardPlan plan, List<LabelledText> train) {
        DataParallel dataParallel = plan.layout();
        int[] ranks = plan.ranks();
        int[] sizes = dataParallel.shardSizes();
        List<String> digests = new ArrayList<>();
        if (dataParallel.isSimulated()) {
            for (int i = 0; i < ranks.length; i++) {
                digests.add(RunFingerprint.dataSha256(train.subList(plan.offset(i), plan.offset(i) + sizes[ranks[i]])));
            }
        } else {
            String mine = train.size() + ":" + RunFingerprint.dataSha256(train);
            List<byte[]> all = dataParallel.exchange().allGather(mine.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (int r = 0; r < all.size(); r++) {
                String[] parts = new String(all.get(r), java.nio.charset.StandardCharsets.UTF_8).split(":", 2);
                if (all.size() != sizes.length || Integer.parseInt(parts[0]) != sizes[r]) {
                    throw new IllegalArgumentException("replica " + r + " of " + all.size() + " holds " + parts[0]
                            + " examples but the layout " + dataParallel + " gives it "
                            + (r < sizes.length ? sizes[r] : "none"));
                }
                digests.add(parts[1]);
            }
        }
        return org.tribuopeft.adapters.io.Sha256.of(String.join("\n", digests)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * The checkpoint every replica resumes from: rank 0 picks the newest valid one and sends its folder name, so
     * replicas that list the shared folder at different moments still agree; a failure on rank 0 reaches all.
     */
    static CheckpointReader.Loaded checkpoint(DataParallel layout, Path resumeFrom, PrintStream notices) {
        java.nio.charset.Charset utf8 = java.nio.charset.StandardCharsets.UTF_8;
        if (layout.rank() == 0) {
            CheckpointReader.Loaded loaded;
            try {
                loaded = CheckpointReader.newestValid(resumeFrom, notices::println);
            } catch (RuntimeException e) {
                layout.exchange().allGather(("!" + e.getMessage()).getBytes(utf8));
                throw e;
            }
            layout.exchange().allGather(loaded.folder().getFileName().toString().getBytes(utf8));
            return loaded;
        }
        String chosen = new String(layout.exchange().allGather(new byte[0]).get(0), utf8);
        if (chosen.startsWith("!")) {
            throw new org.tribuopeft.adapters.checkpoint.CheckpointException("replica 0 found no checkpoint to "
                    + "resume from: " + chosen.substring(1));
        }
        Path folder = resumeFrom.resolve(chosen);
        return new CheckpointReader.Loaded(folder, CheckpointReader.read(folder));
    }
}
