import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import Testing

@testable import portal_server

/// schemathesis (PyPI) against the running server with the repository's OpenAPI document: every check, no server
/// error. `Scripts/setup-test-bench` installs it in /opt/procurement-identity/schemathesis (PI_SCHEMATHESIS names
/// another `st`); without it this test fails and says so, as the PostgreSQL tests do without their server.
@Suite("The OpenAPI document against the running server")
struct SchemathesisTests {
    static var command: String {
        ProcessInfo.processInfo.environment["PI_SCHEMATHESIS"] ?? "/opt/procurement-identity/schemathesis/bin/st"
    }

    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/portal-server")
    }

    @Test("schemathesis finds no server error and no answer that breaks the document", .timeLimit(.minutes(10)))
    func schemathesis() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.command),
            "schemathesis is missing: run Scripts/setup-test-bench (it installs it in a venv), or set PI_SCHEMATHESIS")
        var settings = PortalServerSettings(origin: ServerTestBench.origin, secureCookies: false)
        settings.loginBurst = 10_000
        let bench = try await ServerTestBench(settings: settings)
        let registered = try await bench.registered()
        // A session of the representative, made as a login makes it.
        let registration = try #require(try await bench.store.registration(registered.businessID))
        let token = try await bench.sessions.open(
            LoginSession(
                businessID: registered.businessID, businessName: registration.business.name,
                userID: registered.representativeID, userName: "入札 太郎", role: .representative,
                bindingID: try #require(registration.bindings(of: registered.representativeID).first?.id),
                authenticatedAt: Date())
        ).token
        let report = bench.directory.appendingPathComponent("schemathesis.txt")
        let result = try await bench.application().test(.live) { client in
            let port = try #require(client.port)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.command)
            process.arguments = [
                "--config-file", Self.directory.appendingPathComponent("schemathesis.toml").path,
                "run", Self.directory.appendingPathComponent("openapi.yaml").path, "--url", "http://127.0.0.1:\(port)",
                "--checks", "all",
                "--max-examples", "15", "--seed", "1", "--exclude-path", "/api/v1/logout",
                "--header", "Origin: \(ServerTestBench.origin)",
                "--generation-database", "none", "--no-color",
            ]
            process.currentDirectoryURL = bench.directory
            process.environment = ProcessInfo.processInfo.environment.merging(["PI_SESSION_TOKEN": token]) { $1 }
            _ = FileManager.default.createFile(atPath: report.path, contents: nil)
            let handle = try FileHandle(forWritingTo: report)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            let status = await process.exitStatus()
            try handle.close()
            return status
        }
        let text = (try? String(contentsOf: report, encoding: .utf8)) ?? ""
        #expect(result == 0, "schemathesis failed:\n\(text.suffix(12_000))")
        #expect(!text.contains("Server error"), "\(text.suffix(12_000))")
    }
}
