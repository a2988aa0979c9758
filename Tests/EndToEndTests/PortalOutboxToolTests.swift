import CardSimulator
import Foundation
import Registration
import Testing
import X509

/// `portal outbox deliver` as cron runs it: a registration made with a PEM certificate (no card), then the outbox
/// delivered to the GEPS reference server and a real SMTP server (aiosmtpd) on loopback. The servers are the
/// Registration tests' fixtures.
@Suite("The portal tool's outbox delivery", .serialized)
struct PortalOutboxToolTests {
    /// Tests/RegistrationTests/Fixtures, next to this file's folder.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("RegistrationTests/Fixtures")

    static let password = "correct horse"

    /// A folder with a portal database that holds one registration, so a GEPS hand-over and its completion mail.
    final class Workspace: Sendable {
        let directory: URL
        var database: String { directory.appendingPathComponent("portal.sqlite").path }

        init() async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let authority = try TestCertificateAuthority(directory: directory.appendingPathComponent("ca"))
            var holder = EBiddingHolder.example
            holder.companyName = EndToEnd.PortalToolTests.company
            holder.name = "入札 太郎"
            let certificate = try authority.issueEBiddingCertificate(
                for: holder, publicKey: try CardRSAKey.generate(), validity: .valid(days: 395))
            let pem = directory.appendingPathComponent("representative.pem").path
            try certificate.serializeAsPEM().pemString.write(toFile: pem, atomically: true, encoding: .utf8)
            let arguments = EndToEnd.PortalToolTests.registerArguments.filter { $0 != "--card" } + ["--pem", pem]
            let registered = try await portal(arguments)
            #expect(registered.status == 0, "\(registered.error)")
        }

        func portal(_ arguments: [String], input: String? = nil, environment: [String: String] = [:])
            async throws -> Tools.Result
        {
            try await Tools.run("portal", arguments + ["--db", database], input: input, environment: environment)
        }

        /// The outbox messages' identifiers (M-…) by kind, from `portal outbox list`.
        func messageIDs() async throws -> [String: String] {
            let list = try await portal(["outbox", "list"])
            var ids: [String: String] = [:]
            for row in list.output.split(separator: "\n") {
                let columns = row.split(separator: " ", omittingEmptySubsequences: true)
                if columns.count > 1 { ids[String(columns[1])] = String(columns[0]) }
            }
            return ids
        }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    @Test("a hand-over GEPS refuses for good: exit 1, each failed message named with its reason on stderr")
    func refusedForGoodExitsOne() async throws {
        let workspace = try await Workspace()
        let ids = try await workspace.messageIDs()
        let handOver = try #require(ids["gepsHandOver"])
        let mail = try #require(ids["mail"])
        let geps = try await LoopbackServer.start(
            "geps-reference-server.py", ["--fail-first", "9", "--fail-status", "400"])
        defer { geps.stop() }

        let run = try await workspace.portal([
            "outbox", "deliver", "--geps", "http://127.0.0.1:\(geps.port)", "--smtp", "127.0.0.1:9",
        ])
        #expect(run.status == 1, "\(run.output)\n\(run.error)")
        #expect(run.output.contains("delivered 0, to retry 0, failed 2"), "\(run.output)")
        let stderr = run.error.split(separator: "\n").filter { $0.hasPrefix("portal: ") || $0.hasPrefix("  M-") }
        #expect(stderr.first == "portal: 2 messages failed for good in this run:", "\(run.error)")
        #expect(stderr.contains { $0.hasPrefix("  \(handOver) (gepsHandOver") && $0.contains("HTTP 400") })
        #expect(stderr.contains { $0.hasPrefix("  \(mail) (mail") && $0.contains("waits for failed") })

        // Nothing is due any more: success.
        let again = try await workspace.portal([
            "outbox", "deliver", "--geps", "http://127.0.0.1:\(geps.port)", "--smtp", "127.0.0.1:9",
        ])
        #expect(again.status == 0, "\(again.error)")
        #expect(again.output.contains("delivered 0, to retry 0, failed 0"))
    }

    @Test("a hand-over that waits for a retry (GEPS answers 503): exit 0")
    func retryLaterExitsZero() async throws {
        let workspace = try await Workspace()
        let geps = try await LoopbackServer.start("geps-reference-server.py", ["--fail-first", "9"])
        defer { geps.stop() }
        let run = try await workspace.portal([
            "outbox", "deliver", "--geps", "http://127.0.0.1:\(geps.port)", "--smtp", "127.0.0.1:9",
        ])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("delivered 0, to retry 1, failed 0"), "\(run.output)")
    }

    @Test("STARTTLS with AUTH, the password from PORTAL_SMTP_PASSWORD, the CA from --smtp-ca-file")
    func startTLSWithAuthentication() async throws {
        let workspace = try await Workspace()
        let (certificate, key) = try Self.selfSignedLocalhost(in: workspace.directory)
        let maildir = workspace.directory.appendingPathComponent("mail")
        let smtp = try await LoopbackServer.start(
            "smtp-test-server.py",
            [
                maildir.path, "--starttls", "--auth", "portal:\(Self.password)", "--tls-cert", certificate,
                "--tls-key", key,
            ])
        defer { smtp.stop() }
        let geps = try await LoopbackServer.start("geps-reference-server.py")
        defer { geps.stop() }
        let deliver = [
            "outbox", "deliver", "--geps", "http://127.0.0.1:\(geps.port)", "--smtp", "localhost:\(smtp.port)",
            "--smtp-tls", "starttls", "--smtp-ca-file", certificate, "--smtp-user", "portal",
        ]

        // Without TLS the password is refused up front (a usage error), for a loopback relay too.
        let plain = try await workspace.portal(
            [
                "outbox", "deliver", "--geps", "http://127.0.0.1:\(geps.port)", "--smtp", "127.0.0.1:\(smtp.port)",
                "--smtp-user", "portal",
            ], environment: ["PORTAL_SMTP_PASSWORD": Self.password])
        #expect(plain.status == 64, "\(plain.error)")
        #expect(plain.error.contains("without TLS"))

        let run = try await workspace.portal(deliver, environment: ["PORTAL_SMTP_PASSWORD": Self.password])
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        #expect(run.output.contains("delivered 2, to retry 0, failed 0"), "\(run.output)")
        #expect(!run.output.contains(Self.password) && !run.error.contains(Self.password))
        let stored = try String(contentsOf: maildir.appendingPathComponent("001.json"), encoding: .utf8)
        #expect(stored.contains("\"authenticated\": true"), "\(stored)")
        let wire = try String(contentsOf: maildir.appendingPathComponent("wire.jsonl"), encoding: .utf8)
        #expect(!wire.split(separator: "\n").contains { $0.contains("\"tls\": false") && $0.contains("AUTH") })
    }

    /// A self-signed certificate for localhost and its key (PEM files), made by `openssl`.
    static func selfSignedLocalhost(in directory: URL) throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("smtp.pem").path
        let key = directory.appendingPathComponent("smtp.key").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
            certificate, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try #require(process.waitForExit() == 0, "openssl could not make the certificate")
        return (certificate, key)
    }
}

/// A fixture server (a Python script of Tests/RegistrationTests/Fixtures) that prints its port, runs until its
/// standard input closes, and is stopped by ``stop()``.
final class LoopbackServer: @unchecked Sendable {
    // Process and Pipe are not Sendable; they are set once in init and only read (stop) afterwards.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: UInt16
    private let process: Process
    private let input: Pipe

    private init(port: UInt16, process: Process, input: Pipe) {
        self.port = port
        self.process = process
        self.input = input
    }

    static func start(_ script: String, _ arguments: [String] = []) async throws -> LoopbackServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [PortalOutboxToolTests.fixtures.appendingPathComponent(script).path] + arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        // The read blocks: on a Dispatch thread, never on the cooperative pool.
        let line: String = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while let byte = reader.readData(ofLength: 1).first, byte != 0x0A { bytes.append(byte) }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard let port = UInt16(line.trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            throw Failure(description: "\(script) did not print its port (printed \(line.debugDescription))")
        }
        return LoopbackServer(port: port, process: process, input: input)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        _ = process.waitForExit(killingAfter: .seconds(10))
    }
}
