import Synchronization

/// A first-in-first-out lock for async code, whose waiters can be cancelled: what keeps the operations on one
/// card from interleaving (``CardChannel``, and the card clients of the modules above).
///
/// - The lock goes to the waiters in the order they asked for it; ``unlock()`` hands it straight to the oldest
///   waiter, so no newcomer overtakes a queue.
/// - Waiting is cancellable: a task cancelled while it waits leaves the queue and ``lock()`` throws
///   `CancellationError`; a task already cancelled when it asks for a held lock throws at once instead of
///   queueing. A waiter that already received the lock keeps it (its cancellation came too late); the next
///   ``unlock()`` then hands over to the next waiter still waiting.
/// - Taking a free lock does not suspend, and does not look at cancellation: a cancelled task that finds the lock
///   free takes it, so an operation of several card commands is not cut between two of them (where the card
///   would be left half-way, a PIN verified and its signature not made).
///
/// The lock is not reentrant: a holder that asks again waits for itself forever.
package final class AsyncLock: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var locked = false
        var nextID: UInt64 = 0
        /// The waiters, oldest first.
        var waiters: [Waiter] = []
    }

    private enum Outcome {
        case cancelled, acquired, waiting
    }

    private let state = Mutex(State())

    /// A lock nobody holds.
    package init() {}

    /// Whether a task holds the lock (for tests and diagnostics; stale as soon as it is read).
    package var isLocked: Bool { state.withLock { $0.locked } }

    /// How many tasks wait for the lock (for tests and diagnostics; stale as soon as it is read).
    package var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Takes the lock, waiting behind the tasks that asked before.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while it waits (or is cancelled already and the
    ///   lock is held); it then does not hold the lock.
    package func lock() async throws(CancellationError) {
        let id: UInt64? = state.withLock { s in
            if !s.locked {
                s.locked = true
                return 0
            }
            if Task.isCancelled { return nil }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { throw CancellationError() }
        if id == 0 { return }  // the fast path: the lock was free
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    // Decided under the mutex: a cancellation handler that ran before this found no waiter, and
                    // the task's cancelled flag is set before its handler runs, so it is seen here.
                    let outcome = state.withLock { s -> Outcome in
                        if Task.isCancelled { return .cancelled }
                        if !s.locked {
                            s.locked = true  // released between the first look and here
                            return .acquired
                        }
                        s.waiters.append(Waiter(id: id, continuation: continuation))
                        return .waiting
                    }
                    switch outcome {
                    case .cancelled: continuation.resume(throwing: CancellationError())
                    case .acquired: continuation.resume()
                    case .waiting: break  // unlock() or the cancellation handler resumes it
                    }
                }
            } onCancel: {
                let waiter = state.withLock { s -> Waiter? in
                    guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.waiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: CancellationError())
            }
        } catch {
            throw CancellationError()
        }
    }

    /// Releases the lock, handing it to the oldest waiter when there is one.
    ///
    /// Call it once for every ``lock()`` that returned, from the task that holds the lock.
    package func unlock() {
        let next = state.withLock { s -> Waiter? in
            precondition(s.locked, "AsyncLock.unlock() without lock()")
            if s.waiters.isEmpty {
                s.locked = false
                return nil
            }
            return s.waiters.removeFirst()  // the lock stays taken: it passes straight to this waiter
        }
        next?.continuation.resume()
    }

    /// Runs `body` holding the lock.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while it waits for the lock (`body` does not run),
    ///   or what `body` throws.
    package func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try await lock()
        defer { unlock() }
        return try await body()
    }
}
