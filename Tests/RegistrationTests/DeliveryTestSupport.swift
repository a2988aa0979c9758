import Foundation
import Testing

@testable import Registration

/// A test server from Fixtures (a Python script) that prints its port, runs until its stdin closes, and is stopped
/// by ``stop()``.
final class DeliveryFixtureServer: @unchecked Sendable {
    let port: UInt16
    private let process: Process
    private let input: Pipe

    private init(port: UInt16, process: Process, input: Pipe) {
        self.port = port
        self.process = process
        self.input = input
    }

    /// The Fixtures folder, found through the test bundle's resources.
    static func fixture(_ name: String) throws -> URL {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let url = folder.appendingPathComponent(name)
        #expect(FileManager.default.fileExists(atPath: url.path), "missing fixture \(name)")
        return url
    }

    /// Starts `/usr/bin/python3 Fixtures/<script> <arguments>` and waits for the port it prints.
    static func start(_ script: String, _ arguments: [String] = []) async throws -> DeliveryFixtureServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [try fixture(script).path] + arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        // The read blocks: do it on a thread of its own, never on the cooperative pool.
        let line: String = await withCheckedContinuation { continuation in
            Thread {
                var bytes: [UInt8] = []
                while true {
                    let data = reader.readData(ofLength: 1)
                    guard let byte = data.first, byte != 0x0A else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }.start()
        }
        guard let port = UInt16(line.trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            throw DeliveryTestFailure("\(script) did not print its port (printed \(line.debugDescription))")
        }
        return DeliveryFixtureServer(port: port, process: process, input: input)
    }

    /// Stops the server and waits for it to exit (killed after 10 seconds), with `waitForExit`: Foundation's
    /// `waitUntilExit()` spun for ever here once, in a CI run, when it missed the child's exit.
    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        _ = process.waitForExit(killingAfter: .seconds(10))
    }
}

struct DeliveryTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh temporary folder.
func deliveryTemporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("delivery-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The `RegistrationError` a throwing async call ended with, or nil.
func deliveryError(_ body: () async throws(RegistrationError) -> Void) async -> RegistrationError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}

/// A test PKI made with the `openssl` command in a temporary folder: a CA the client is told to trust, server
/// certificates it issued (for `localhost` and 127.0.0.1, and for another name), and one for `localhost` from a
/// second CA nobody trusts.
struct DeliveryTestPKI {
    let folder: URL
    /// The trusted CA's certificate (PEM), for ``SMTPMailTransport/trustedCAFile``.
    var trustedCA: String { path("ca.pem") }

    /// A certificate and its key (PEM files), as the test server takes them.
    struct ServerIdentity {
        var certificate: String
        var key: String
        /// The server's arguments for this identity.
        var arguments: [String] { ["--tls-cert", certificate, "--tls-key", key] }
    }

    /// Issued by the trusted CA to DNS:localhost and IP:127.0.0.1.
    var localhost: ServerIdentity { identity("localhost") }
    /// Issued by the trusted CA to DNS:mail.other.test only.
    var otherName: ServerIdentity { identity("other") }
    /// Issued to DNS:localhost and IP:127.0.0.1 by a CA the client does not trust.
    var untrusted: ServerIdentity { identity("untrusted") }

    static func make() throws -> DeliveryTestPKI {
        let pki = DeliveryTestPKI(folder: try deliveryTemporaryFolder())
        try pki.makeCA("ca", name: "Delivery Test CA")
        try pki.makeCA("rogue", name: "Delivery Rogue CA")
        try pki.issue("localhost", by: "ca", names: "DNS:localhost,IP:127.0.0.1")
        try pki.issue("other", by: "ca", names: "DNS:mail.other.test")
        try pki.issue("untrusted", by: "rogue", names: "DNS:localhost,IP:127.0.0.1")
        return pki
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func identity(_ name: String) -> ServerIdentity {
        ServerIdentity(certificate: path(name + ".pem"), key: path(name + ".key"))
    }

    private func makeCA(_ name: String, name subject: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            path(name + ".key"), "-out", path(name + ".pem"), "-days", "2", "-subj", "/CN=\(subject)", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    private func issue(_ name: String, by ca: String, names: String) throws {
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path(name + ".key"),
            "-out", path(name + ".csr"), "-subj", "/CN=SMTP test server",
        ])
        let extensions = """
            subjectAltName=\(names)
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth

            """
        try extensions.write(toFile: path(name + ".ext"), atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".pem"), "-CAkey", path(ca + ".key"),
            "-set_serial", "\(Int.random(in: 1...Int(Int32.max)))", "-days", "2", "-extfile", path(name + ".ext"),
            "-out", path(name + ".pem"),
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard process.waitForExit() == 0 else {
            throw DeliveryTestFailure("openssl \(arguments.joined(separator: " ")) failed")
        }
    }
}
