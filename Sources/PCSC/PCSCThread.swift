#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A thread of its own that runs the jobs of the actors bound to it: PC/SC calls block (a card may ask for more
/// time without end), so they never run on Swift's cooperative pool.
///
/// It is a `SerialExecutor` (for ``PCSCContext`` and ``PCSCCard``) and a `TaskExecutor`, so code that talks to a
/// card in a tight loop can run on the card's own thread with `withTaskExecutorPreference(_:operation:)` and pay no
/// thread switch per APDU.
public final class PCSCThread: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // Everything mutable is in `Core`, guarded by its pthread mutex; the thread holds the core, not this object, so
    // the thread ends when the last actor using the executor goes away.
    private let core: Core

    /// Starts the thread.
    ///
    /// - Throws: ``PCSCError/Code-swift.struct/noMemory`` when the system cannot make another thread.
    init() throws(PCSCError) {
        core = Core()
        guard core.start() else { throw PCSCError(.noMemory) }
    }

    deinit {
        core.stop()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        core.push(UnownedJob(job), serial: asUnownedSerialExecutor(), task: asUnownedTaskExecutor())
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: PCSCThread) -> Bool {
        self === other
    }

    public func checkIsolated() {
        precondition(core.isCurrentThread, "not on the PC/SC thread")
    }

    /// Whether the calling code runs on this thread.
    public var isCurrent: Bool { core.isCurrentThread }

    private final class Core: @unchecked Sendable {
        private var mutex = pthread_mutex_t()
        private var condition = pthread_cond_t()
        private var jobs: [(UnownedJob, UnownedSerialExecutor, UnownedTaskExecutor)] = []
        private var stopping = false
        private var thread = pthread_t()

        init() {
            pthread_mutex_init(&mutex, nil)
            pthread_cond_init(&condition, nil)
        }

        deinit {
            pthread_cond_destroy(&condition)
            pthread_mutex_destroy(&mutex)
        }

        /// Starts the thread, which keeps the core alive until `stop()` ends its loop; `false` if none could be made.
        func start() -> Bool {
            guard let started = startDetachedThread({ self.run() }) else { return false }
            thread = started
            return true
        }

        var isCurrentThread: Bool { pthread_equal(pthread_self(), thread) != 0 }

        func push(_ job: UnownedJob, serial: UnownedSerialExecutor, task: UnownedTaskExecutor) {
            pthread_mutex_lock(&mutex)
            jobs.append((job, serial, task))
            pthread_cond_signal(&condition)
            pthread_mutex_unlock(&mutex)
        }

        func stop() {
            pthread_mutex_lock(&mutex)
            stopping = true
            pthread_cond_signal(&condition)
            pthread_mutex_unlock(&mutex)
        }

        private func run() {
            var batch: [(UnownedJob, UnownedSerialExecutor, UnownedTaskExecutor)] = []
            while true {
                pthread_mutex_lock(&mutex)
                while jobs.isEmpty && !stopping {
                    pthread_cond_wait(&condition, &mutex)
                }
                if jobs.isEmpty && stopping {
                    pthread_mutex_unlock(&mutex)
                    return
                }
                swap(&batch, &jobs)
                pthread_mutex_unlock(&mutex)
                for (job, serial, task) in batch {
                    job.runSynchronously(isolatedTo: serial, taskExecutor: task)
                }
                batch.removeAll(keepingCapacity: true)
            }
        }
    }
}
