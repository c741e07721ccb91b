package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeapSizingTest {
    @Test
    void plainJavaJarWithoutHeapFlagRelaunches() {
        assertTrue(HeapSizing.shouldRelaunch("app/target/tribuo-peft.jar demo", "app/target/tribuo-peft.jar", List.of(), null));
        assertTrue(HeapSizing.shouldRelaunch("tribuo-peft.jar", "tribuo-peft.jar", List.of("-Dfoo=1", "-XX:+UseSerialGC"), null));
    }

    @Test
    void heapFlagOfTheUserKeepsTheFirstJvm() {
        assertFalse(HeapSizing.shouldRelaunch("tribuo-peft.jar demo", "tribuo-peft.jar", List.of("-Xmx3g"), null));
        assertFalse(HeapSizing.shouldRelaunch("tribuo-peft.jar demo", "tribuo-peft.jar", List.of("-XX:MaxHeapSize=3g"), null));
        assertFalse(HeapSizing.shouldRelaunch("tribuo-peft.jar demo", "tribuo-peft.jar", List.of("-XX:MaxRAMPercentage=10"), null));
    }

    @Test
    void classPathLaunchesAndTheChildNeverRelaunch() {
        assertFalse(HeapSizing.shouldRelaunch("org.tribuopeft.cli.TribuoPeftCli step-benchmark", "app/target/classes:lib/x.jar", List.of(), null));
        assertFalse(HeapSizing.shouldRelaunch("tribuo-peft.jar demo", "tribuo-peft.jar", List.of(), "1"));
        assertFalse(HeapSizing.shouldRelaunch(null, "t.jar", List.of(), null));
    }

    @Test
    void jarPathWithSpacesIsKeptWhole() {
        String jar = "/home/a user/my tools/tribuo-peft.jar";
        assertEquals(jar, HeapSizing.launchedJar(jar + " demo --train 10", jar));
        assertEquals(jar, HeapSizing.launchedJar(jar, jar));
        assertTrue(HeapSizing.shouldRelaunch(jar + " demo", jar, List.of(), null));
    }

    @Test
    void aClassPathThatIsNotTheStartedJarIsNoJarLaunch() {
        assertEquals(null, HeapSizing.launchedJar("org.tribuopeft.cli.TribuoPeftCli demo", "a.jar:b.jar"));
        assertEquals(null, HeapSizing.launchedJar("other.jar demo", "tribuo-peft.jar"));
        assertEquals(null, HeapSizing.launchedJar("tribuo-peft.jarx demo", "tribuo-peft.jar"));
    }

    @Test
    void childCommandKeepsFlagsAndArgumentsAndAddsTheHeap() {
        assertEquals(List.of("/jdk/bin/java", "-Dx=1", "-Xmx2g", "-XX:MaxHeapFreeRatio=30", "-XX:MinHeapFreeRatio=10",
                        "-jar", "t.jar", "demo", "--train", "10"),
                HeapSizing.childCommand("/jdk/bin/java", List.of("-Dx=1"), "t.jar", new String[] {"demo", "--train", "10"}));
    }

    @Test
    void benchmarkChildJvmsGetTheToolsHeapUnlessTheFlagsSetOne() {
        assertEquals(List.of("-Dx=1", "-Xmx2g", "-XX:MaxHeapFreeRatio=30", "-XX:MinHeapFreeRatio=10"),
                HeapSizing.withDefaultHeap(List.of("-Dx=1")));
        assertEquals(List.of("-Xmx6g"), HeapSizing.withDefaultHeap(List.of("-Xmx6g")));
        assertEquals(List.of("-XX:MaxRAMPercentage=50"), HeapSizing.withDefaultHeap(List.of("-XX:MaxRAMPercentage=50")));
    }
}
