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
            // The script leaves pcscd running with whatever descriptors it inherits: no pipes of ours.
            let script = scripts.appendingPathComponent("private-pcscd").path
            let status = system("'\(script)' '\(folder)' \(port) </dev/null >/dev/null 2>&1")
            try #require(status == 0, "private-pcscd did not start pcscd (status \(status))")
        } else {
            // pcscd daemonises, and its daemon keeps whatever descriptors it inherits: no pipes of ours.
            let status = system("/usr/sbin/pcscd </dev/null >/dev/null 2>&1")
            try #require(status == 0, "pcscd did not start (status \(status))")
        }
    }
}
