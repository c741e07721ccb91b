package org.tribuopeft.adapters.testing;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.tribuopeft.adapters.engine.TorchRuntime;

/** For tests that work on engine arrays: a fresh {@link NDManager} per test, closed after it. */
public abstract class EngineTestBase {
    /** The test's manager; every array made from it is freed when the test ends. */
    protected NDManager manager;

    @BeforeEach
    void openManager() {
        manager = TorchRuntime.engine().newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }
}
