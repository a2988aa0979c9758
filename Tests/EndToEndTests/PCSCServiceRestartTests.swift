import Foundation
import PCSC
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// pcscd stopping under a running program: the program gets a clear error, then recovers by itself.
    @Suite("pcscd stopped and started again")
    struct PCSCServiceRestartTests {
        @Test(
            "a context whose pcscd went away says how to start it, and works again once pcscd is back",
            .enabled(if: getuid() == 0, "stopping pcscd needs root"),
            .enabled(
                if: !FileManager.default.fileExists(atPath: "/run/systemd/system"), "systemd restarts pcscd itself"))
        func serviceRestart() async throws {
            let context = try PCSCContext()
            #expect(try await context.readers().count >= 2)
            try await PCSCDaemon.stop()
            let error = await #expect(throws: PCSCError.self) { _ = try await context.readers() }
            #expect(error?.failure == .serviceUnavailable, "got \(String(describing: error))")
            #expect(error.map { "\($0)".contains("pcscd") } == true)
            try await PCSCDaemon.start()
            // The same context object recovers: it establishes a new SCARDCONTEXT, waiting a little between tries.
            var readers: [String] = []
            let deadline = ContinuousClock.now + .seconds(15)
            while readers.count < 2 && ContinuousClock.now < deadline {
                readers = (try? await context.readers()) ?? []
                if readers.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(readers.filter { $0.hasPrefix("Virtual PCD") }.count == 2)
            #expect(await context.isValid())
        }
    }
}

/// Stops and starts the pcscd these tests talk to: a private one (`Scripts/private-pcscd`, when
/// `PCSCLITE_CSOCK_NAME` points into its folder) or the system one.
enum PCSCDaemon {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scripts")

    /// The private pcscd's folder, when the tests use one.
    static var privateFolder: String? {
        guard let socket = ProcessInfo.processInfo.environment["PCSCLITE_CSOCK_NAME"] else { return nil }
        return URL(fileURLWithPath: socket).deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Stops pcscd and waits until its process is gone: after SIGTERM it still serves open connections for a while.
    static func stop() async throws {
        let pidFile = privateFolder.map { "\($0)/pcscd.pid" } ?? "/run/pcscd/pcscd.pid"
        let pidText = try String(contentsOfFile: pidFile, encoding: .utf8)
        // pcscd writes "PID\n\0": take the digits.
        let pid = try #require(pid_t(String(pidText.prefix { $0.isNumber })), "no pid in \(pidFile)")
        if let folder = privateFolder {
            let result = try await Tools.run(
                executable: scripts.appendingPathComponent("private-pcscd"), ["--stop", folder])
            try #require(result.status == 0, "\(result.error)")
        } else {
            kill(pid, SIGTERM)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while kill(pid, 0) == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(kill(pid, 0) != 0, "pcscd (pid \(pid)) did not stop in 10 s")
    }

    static func start() async throws {
        if let folder = privateFolder {
            let port = ProcessInfo.processInfo.environment["PI_VPCD_PORT"] ?? "35963"
            let status = try spawnDaemon(scripts.appendingPathComponent("private-pcscd").path, [folder, port])
            try #require(status == 0, "private-pcscd did not start pcscd (status \(status))")
        } else {
            let status = try spawnDaemon("/usr/sbin/pcscd", [])
            try #require(status == 0, "pcscd did not start (status \(status))")
        }
    }

    /// Runs `path` (which leaves a daemon behind) and waits for it to return, handing it none of this process's
    /// descriptors: standard input, output and error are /dev/null and every other descriptor is closed.
    ///
    /// `system()` would not do: its child inherits every descriptor not marked close-on-exec, and the daemon keeps
    /// them for its lifetime. Foundation's `Pipe` is not close-on-exec, so pcscd started that way held the write
    /// end of the pipe on which Scripts/test-tsa waits for end-of-file: the TSA outlived the test process, kept its
    /// inherited standard error open, and `swift test`, which reads the test process's output to its end before it
    /// reaps it, waited forever, its output stopped mid-line. The signal mask is emptied too (a Dispatch thread
    /// blocks most signals, and the mask survives exec: a pcscd that cannot see SIGTERM cannot be stopped).
    static func spawnDaemon(_ path: String, _ arguments: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        for descriptor in Int32(0)...2 {
            let mode = descriptor == 0 ? O_RDONLY : O_WRONLY
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", mode, 0)
        }
        // glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not declare.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        let closeFrom = try #require(
            dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"), "glibc 2.34 or later is needed")
        try #require(unsafeBitCast(closeFrom, to: CloseFrom.self)(&actions, 3) == 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        try #require(spawned == 0, "\(path) could not be started (\(String(cString: strerror(spawned))))")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : -1
    }
}
