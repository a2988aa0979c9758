import CardCredentials
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Waiting for a child process: its status, a time limit, and never for ever")
struct ChildProcessTests {
    private func start(_ script: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("the exit status of a child, and 128 + the signal of one a signal ended")
    func statuses() async throws {
        #expect(try start("exit 0").waitForExit() == 0)
        #expect(try start("exit 3").waitForExit() == 3)
        #expect(try start("kill -KILL $$").waitForExit() == 128 + SIGKILL)
        #expect(await (try start("exit 4")).exitStatus() == 4)
    }

    @Test("a child still running at the limit is killed")
    func limit() async throws {
        let started = ContinuousClock.now
        #expect(try start("exec sleep 1000").waitForExit(killingAfter: .milliseconds(200)) == 128 + SIGKILL)
        #expect(ContinuousClock.now - started < .seconds(10))
        // Not timed: with the whole suite running, the test pool's threads may be busy for a long while.
        #expect(await (try start("exec sleep 1000")).exitStatus(killingAfter: .milliseconds(200)) == 128 + SIGKILL)
    }

    @Test("a wait whose task is cancelled kills the child and ends")
    func cancelled() async throws {
        let process = try start("exec sleep 1000")
        let wait = Task { await process.exitStatus() }
        try await Task.sleep(for: .milliseconds(100))
        wait.cancel()
        #expect(await wait.value == 128 + SIGKILL)
    }

    #if os(Linux)
        /// A child that Foundation does not know of: the wait is told Foundation still says it runs, as when
        /// Foundation misses an exit (where `waitUntilExit()` spins for ever).
        private func spawn(_ script: String) throws -> pid_t {
            var pid = pid_t()
            let arguments: [String] = ["/bin/sh", "-c", script]
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            let result = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
            #expect(result == 0, "posix_spawn failed: \(result)")
            return pid
        }

        @Test("an exit Foundation misses: the zombie is reaped after a second, with its status")
        func missedExitReaped() throws {
            let pid = try spawn("exit 7")
            var watch = ChildExitWatch(pid: pid, limit: nil, isRunning: { true }, ended: { 0 })
            let started = ContinuousClock.now
            #expect(watch.wait() == 7)
            #expect(ContinuousClock.now - started < .seconds(5))
            var status: Int32 = 0
            #expect(waitpid(pid, &status, WNOHANG) == -1, "the child was reaped")
        }

        @Test("a child gone altogether (another waiter reaped it) ends the wait with -1")
        func goneChild() throws {
            let pid = try spawn("exit 0")
            var status: Int32 = 0
            try #require(waitpid(pid, &status, 0) == pid)
            var watch = ChildExitWatch(pid: pid, limit: nil, isRunning: { true }, ended: { 0 })
            let started = ContinuousClock.now
            #expect(watch.wait() == -1)
            #expect(ContinuousClock.now - started < .seconds(5))
        }

        @Test("a child whose exit is missed is still killed at the limit, and reaped")
        func missedExitKilled() throws {
            let pid = try spawn("exec sleep 30")
            var watch = ChildExitWatch(pid: pid, limit: .milliseconds(200), isRunning: { true }, ended: { 0 })
            #expect(watch.wait() == 128 + SIGKILL)
        }
    #endif
}
