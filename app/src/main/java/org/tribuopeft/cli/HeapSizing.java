package org.tribuopeft.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Gives the command-line tool a bounded JVM heap. Started with a plain {@code java -jar}, the JVM may grow
 * its heap to a quarter of the machine's memory, and the collector lets it grow well past what the job
 * keeps alive (the README demo peaked near 5 GB). When the jar was started that way without a heap flag
 * of the user's own, {@code main} runs the command once more in a child JVM with {@link #DEFAULT_HEAP},
 * the same JVM flags and the same arguments, and exits with its exit code. A heap flag given by the user
 * ({@code -Xmx}, {@code -XX:MaxHeapSize}, {@code -XX:MaxRAM...}) or the environment variable
 * {@value #SKIP_ENV} keeps the command in the first JVM.
 */
final class HeapSizing {
    /** The heap limit the tool runs under unless told otherwise; room for base-size BERT models. */
    static final String DEFAULT_HEAP = "-Xmx2g";
    /**
     * Added with {@link #DEFAULT_HEAP}: G1 gives back heap it does not need (at most 30 % of the committed heap left
     * free after a collection). The README demo peaked at 1,958 MiB with these flags against 2,197 MiB with the
     * serial collector in the same run (docs/benchmarks.md).
     */
    static final List<String> DEFAULT_HEAP_FLAGS = List.of("-XX:MaxHeapFreeRatio=30", "-XX:MinHeapFreeRatio=10");
    /** Set (to anything) to run in the JVM as started; the child JVM gets it so that it never relaunches. */
    static final String SKIP_ENV = "TRIBUO_PEFT_NO_RELAUNCH";
    /** The first JVM's process id, given to the child so that it ends when the first JVM is killed outright. */
    static final String PARENT_ENV = "TRIBUO_PEFT_PARENT_PID";

    private HeapSizing() {}

    /**
     * The jar this JVM was started from with {@code java -jar}, or null when it was started another way.
     * With {@code -jar} the class path is exactly the jar's path as typed, and {@code sun.java.command}
     * starts with it; comparing the two (instead of splitting the command at spaces) keeps a jar whose
     * path holds spaces.
     *
     * @param javaCommand the {@code sun.java.command} property
     * @param classPath the {@code java.class.path} property
     */
    static String launchedJar(String javaCommand, String classPath) {
        if (javaCommand == null || classPath == null || !classPath.endsWith(".jar")
                || classPath.contains(java.io.File.pathSeparator)) {
            return null;
        }
        String command = javaCommand.strip();
        return command.equals(classPath) || command.startsWith(classPath + " ") ? classPath : null;
    }

    /**
     * True when the command should run in a child JVM with {@link #DEFAULT_HEAP}.
     *
     * @param javaCommand the {@code sun.java.command} property: the jar path first when started with -jar
     * @param classPath the {@code java.class.path} property
     * @param jvmArgs the JVM's input arguments
     * @param skip the value of {@value #SKIP_ENV}, or null
     */
    static boolean shouldRelaunch(String javaCommand, String classPath, List<String> jvmArgs, String skip) {
        return skip == null && launchedJar(javaCommand, classPath) != null && !hasHeapFlag(jvmArgs);
    }

    /** True when the JVM flags set the heap limit themselves ({@code -Xmx}, {@code -XX:MaxHeapSize}, {@code -XX:MaxRAM...}). */
    static boolean hasHeapFlag(List<String> jvmArgs) {
        for (String a : jvmArgs) {
            if (a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize") || a.startsWith("-XX:MaxRAM")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The flags a JVM the tool starts for itself runs with: {@code jvmArgs} as given, plus {@link #DEFAULT_HEAP} and
     * {@link #DEFAULT_HEAP_FLAGS} when they set no heap limit of their own.
     */
    static List<String> withDefaultHeap(List<String> jvmArgs) {
        List<String> flags = new ArrayList<>(jvmArgs);
        if (!hasHeapFlag(jvmArgs)) {
            flags.add(DEFAULT_HEAP);
            flags.addAll(DEFAULT_HEAP_FLAGS);
        }
        return flags;
    }

    /**
     * The child JVM's command line: the same JVM flags plus {@link #DEFAULT_HEAP} and {@link #DEFAULT_HEAP_FLAGS}, the
     * jar, the arguments.
     */
    static List<String> childCommand(String java, List<String> jvmArgs, String jar, String[] args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(withDefaultHeap(jvmArgs));
        cmd.add("-jar");
        cmd.add(jar);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs the command in the child JVM, with this process's standard streams, and returns its exit code. */
    static int relaunch(String[] args) throws IOException, InterruptedException {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        String jar = launchedJar(System.getProperty("sun.java.command"), System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(childCommand(javaBin, jvmArgs, jar, args)).inheritIO();
        pb.environment().put(SKIP_ENV, "1");
        pb.environment().put(PARENT_ENV, Long.toString(ProcessHandle.current().pid()));
        Process child = pb.start();
        // Ctrl-C reaches the child through the terminal; a kill of this JVM alone is passed on
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (child.isAlive()) {
                child.destroy();
            }
        }));
        return child.waitFor();
    }

    /**
     * In a child JVM started by {@link #relaunch}, ends this JVM (running its shutdown hooks) when the first JVM
     * is gone: a {@code kill -9} of the first JVM runs no shutdown hook there, and the child would otherwise
     * train on unseen. Does nothing when {@code parentPid} is null or not a number.
     *
     * @param parentPid the value of {@value #PARENT_ENV}, or null
     */
    static void exitWithParent(String parentPid) {
        if (parentPid == null) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(parentPid.strip());
        } catch (NumberFormatException e) {
            return;
        }
        java.util.Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        if (parent.isEmpty()) {
            System.exit(143);
        }
        parent.get().onExit().thenRun(() -> {
            System.err.println("the launching JVM (pid " + pid + ") ended; stopping");
            System.exit(143);
        });
    }
}
