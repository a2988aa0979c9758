import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension Process {
    /// Waits for the child to end, as `waitUntilExit()` does, but never for ever; its exit status (0 when it
    /// succeeded), 128 + the signal's number when a signal ended it, or -1 when the status was lost.
    ///
    /// Foundation's `Process` on Linux now and then misses a child's exit when many children end at once: the child
    /// stays a zombie, `isRunning` stays true, `terminationHandler` is never called and `waitUntilExit()` spins for
    /// ever (a CI run hung so). A child left a zombie for a second is reaped here with `waitpid`; a child that is gone
    /// altogether (reaped by another waiter) for a second ends the wait with -1. With `limit`, a child still running
    /// after it is killed (`SIGKILL`). Blocking: call it off Swift's cooperative pool where a child may take long, or
    /// use `exitStatus(killingAfter:)`.
    package func waitForExit(killingAfter limit: Duration? = nil) -> Int32 {
        var watch = ChildExitWatch(self, limit: limit)
        return watch.wait()
    }

    /// `waitForExit(killingAfter:)` without blocking a thread: the child is looked at between `Task.sleep`s. When
    /// the task is cancelled, the child is killed (`SIGKILL`) and its end waited for.
    package func exitStatus(killingAfter limit: Duration? = nil) async -> Int32 {
        var watch = ChildExitWatch(self, limit: limit)
        while true {
            if let status = watch.status() { return status }
            if Task.isCancelled {
                watch.killChild()
                usleep(watch.nextPause())
            } else {
                try? await Task.sleep(for: .microseconds(Int(watch.nextPause())))
            }
        }
    }
}

/// One wait for a child: `status()` says how it ended once it has, looked at again after each pause. Made from a
/// `Process`, or (for tests) from a process identifier with what Foundation would say of it.
package struct ChildExitWatch {
    private let pid: Int32
    /// Whether Foundation says the child runs, and the status it gives once it says not.
    private let isRunning: () -> Bool
    private let ended: () -> Int32
    private let limit: Duration?
    private let start = ContinuousClock.now
    /// Since when the child has been in `strangeState` (a zombie, or gone from `/proc`) while Foundation still says it
    /// runs.
    private var strangeSince: ContinuousClock.Instant?
    private var strangeState: ChildState?
    private var killed = false
    private var pause: UInt32 = 200
    /// Whether `/proc` can be read here (Linux with `/proc` mounted); elsewhere only Foundation is asked.
    private let watchesProc = FileManager.default.isReadableFile(atPath: "/proc/self/stat")

    init(_ process: Process, limit: Duration?) {
        self.init(
            pid: process.processIdentifier, limit: limit, isRunning: { process.isRunning },
            ended: {
                process.terminationReason == .uncaughtSignal
                    ? 128 + process.terminationStatus : process.terminationStatus
            })
    }

    package init(pid: Int32, limit: Duration?, isRunning: @escaping () -> Bool, ended: @escaping () -> Int32) {
        self.pid = pid
        self.limit = limit
        self.isRunning = isRunning
        self.ended = ended
    }

    /// Waits, blocking the thread, until `status()` says how the child ended.
    package mutating func wait() -> Int32 {
        while true {
            if let status = status() { return status }
            usleep(nextPause())
        }
    }

    /// The exit status once the child ended (as `Process.waitForExit(killingAfter:)` returns it).
    package mutating func status() -> Int32? {
        guard isRunning() else { return ended() }
        if let limit, ContinuousClock.now - start > limit { killChild() }
        guard watchesProc else { return nil }
        let state = Self.state(of: pid)
        guard state != .running else {
            strangeSince = nil
            strangeState = nil
            return nil
        }
        // A second in one state: Foundation may reap a zombie (then it is gone for a moment before `isRunning` says
        // so), and the clock starts again.
        if state != strangeState {
            strangeState = state
            strangeSince = ContinuousClock.now
        }
        guard let since = strangeSince, ContinuousClock.now - since > .seconds(1) else { return nil }
        if state == .zombie {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return Self.exitStatus(waitStatus: status) }
            return nil
        }
        return isRunning() ? -1 : nil
    }

    /// Kills the child (`SIGKILL`) once, while it is still this process's child (not a process that took its
    /// identifier after it was reaped).
    package mutating func killChild() {
        guard !killed else { return }
        killed = true
        if !watchesProc || Self.state(of: pid) == .running { _ = kill(pid, SIGKILL) }
    }

    /// The pause before the next look, in microseconds: 0.2 ms first, doubling up to 10 ms.
    package mutating func nextPause() -> UInt32 {
        defer { pause = min(pause * 2, 10_000) }
        return pause
    }

    private enum ChildState { case running, zombie, gone }

    /// The child's state in `/proc` (`Z`: exited and waiting to be reaped); a process of that identifier whose parent
    /// is not this process is another one, which took the identifier after the child was reaped: gone.
    private static func state(of pid: Int32) -> ChildState {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return .gone }
        // After the command's closing parenthesis: the state, then the parent's identifier.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count >= 2, Int32(fields[1]) == getpid() else { return .gone }
        return fields[0] == "Z" ? .zombie : .running
    }

    /// A `waitpid` status as an exit status: the code of a child that exited, 128 + the signal of one a signal ended.
    private static func exitStatus(waitStatus status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
