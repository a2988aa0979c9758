import ISO7816
import Synchronization
import Testing

/// A value the tests' tasks share (a local `Mutex` cannot be captured by a task's closure).
private final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

@Suite("AsyncLock: first in, first out, cancellable")
struct AsyncLockTests {
    /// Waits (polling) until `lock` has `count` waiters.
    private static func waitForWaiters(_ lock: AsyncLock, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while lock.waiterCount != count {
            guard ContinuousClock.now < deadline else {
                Issue.record("the lock never had \(count) waiters (it has \(lock.waiterCount))")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test("a free lock is taken without waiting, and released")
    func free() async throws {
        let lock = AsyncLock()
        #expect(!lock.isLocked)
        try await lock.lock()
        #expect(lock.isLocked)
        lock.unlock()
        #expect(!lock.isLocked)
        let value = try await lock.withLock { 42 }
        #expect(value == 42)
        #expect(!lock.isLocked)
    }

    @Test("waiters get the lock in the order they asked for it")
    func fifo() async throws {
        let lock = AsyncLock()
        let order = Shared<[Int]>([])
        try await lock.lock()
        var tasks: [Task<Void, any Error>] = []
        for index in 0..<20 {
            tasks.append(
                Task {
                    try await lock.withLock { order.withLock { $0.append(index) } }
                })
            try await Self.waitForWaiters(lock, index + 1)  // each one queued before the next starts
        }
        lock.unlock()
        for task in tasks { try await task.value }
        #expect(order.withLock { $0 } == Array(0..<20))
        #expect(!lock.isLocked)
    }

    @Test("many tasks: never two inside at once, every one gets in")
    func mutualExclusion() async throws {
        let lock = AsyncLock()
        struct Counters: Sendable {
            var inside = 0
            var mostInside = 0
            var entered = 0
        }
        let counters = Shared(Counters())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<500 {
                group.addTask {
                    try await lock.withLock {
                        counters.withLock {
                            $0.inside += 1
                            $0.mostInside = max($0.mostInside, $0.inside)
                            $0.entered += 1
                        }
                        await Task.yield()  // give the others every chance to break in
                        counters.withLock { $0.inside -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = counters.withLock { $0 }
        #expect(final.mostInside == 1)
        #expect(final.entered == 500)
        #expect(!lock.isLocked)
        #expect(lock.waiterCount == 0)
    }

    @Test("a task cancelled before it asks for a held lock throws at once; a free lock it takes")
    func cancelledBeforeAsking() async throws {
        let lock = AsyncLock()
        // Free: taken without looking at cancellation (an operation is not cut between two card commands).
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await lock.withLock { #expect(Task.isCancelled) }
        }
        try await task.value
        #expect(!lock.isLocked)

        try await lock.lock()
        let second = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await lock.lock()
        }
        await #expect(throws: CancellationError.self) { try await second.value }
        #expect(lock.waiterCount == 0)
        lock.unlock()
        #expect(!lock.isLocked)
    }

    @Test("a waiter cancelled while it waits leaves the queue and throws CancellationError")
    func cancelledWhileWaiting() async throws {
        let lock = AsyncLock()
        try await lock.lock()
        let ran = Shared(false)
        let waiter = Task {
            try await lock.withLock { ran.withLock { $0 = true } }
        }
        try await Self.waitForWaiters(lock, 1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(lock.waiterCount == 0)
        #expect(lock.isLocked)  // still the first holder's
        lock.unlock()
        #expect(!lock.isLocked)
        #expect(!ran.withLock { $0 })
    }

    @Test("cancelling one waiter does not stall the ones behind it")
    func cancellationDoesNotStall() async throws {
        let lock = AsyncLock()
        let order = Shared<[String]>([])
        try await lock.lock()
        func waiter(_ name: String) -> Task<Void, any Error> {
            Task { try await lock.withLock { order.withLock { $0.append(name) } } }
        }
        let first = waiter("first")
        try await Self.waitForWaiters(lock, 1)
        let cancelled = waiter("cancelled")
        try await Self.waitForWaiters(lock, 2)
        let last = waiter("last")
        try await Self.waitForWaiters(lock, 3)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(lock.waiterCount == 2)
        lock.unlock()
        try await first.value
        try await last.value
        #expect(order.withLock { $0 } == ["first", "last"])
        #expect(!lock.isLocked)
    }

    @Test("cancellations racing with releases lose no wake-up")
    func cancellationRaces() async throws {
        let lock = AsyncLock()
        for _ in 0..<200 {
            try await lock.lock()
            let waiters = (0..<4).map { _ in Task { try await lock.withLock {} } }
            let canceller = Task { waiters[1].cancel() }
            lock.unlock()
            await canceller.value
            for (index, waiter) in waiters.enumerated() {
                do {
                    try await waiter.value
                } catch {
                    #expect(index == 1 && error is CancellationError)
                }
            }
            #expect(!lock.isLocked)
            #expect(lock.waiterCount == 0)
        }
    }
}
