import CardSimulator
import Foundation
import Registration
import Testing
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TCP connection to a loopback port, to send a request in pieces.
final class RawConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw ConnectionRefused()
        }
    }

    struct ConnectionRefused: Error {}

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until the server closes the connection (or 10 s pass).
    func readAll() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The portal-server executable over an empty SQLite database, started on a free port.
final class ServerProcess {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("portal-server")
    }

    let directory: URL
    let process = Process()
    let port: Int
    let scheme: String

    /// Starts it with `arguments` besides the database, the address and the roots; `prepare` may write files into
    /// the directory first and return more arguments.
    init(_ arguments: [String], prepare: (URL) throws -> [String] = { _ in [] }) throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.binary.path),
            "\(Self.binary.path) is missing: build first (swift build --build-tests)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("portal-server-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authority = try TestCertificateAuthority(directory: directory.appendingPathComponent("ca"))
        let root = directory.appendingPathComponent("root.pem")
        try authority.rootCertificate(.eBidding).serializeAsPEM().pemString.write(
            to: root, atomically: true, encoding: .utf8)
        let database = directory.appendingPathComponent("portal.sqlite").path
        _ = try SQLiteRegistrationStore(path: database)

        process.executableURL = Self.binary
        process.arguments =
            ["--db", database, "--listen", "127.0.0.1:0", "--trust", root.path, "--log-level", "warning"] + arguments
            + (try prepare(directory))
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        // "portal-server: listening on http://127.0.0.1:PORT (store …)"
        var line = ""
        while !line.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let url = try #require(line.split(separator: " ").first { $0.contains("://") }, "\(line)")
        scheme = String(url.prefix { $0 != ":" })
        port = try #require(Int(url.split(separator: ":").last ?? ""))
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("The portal-server executable")
struct ExecutableTests {
    @Test("--revocation-ca naming no CA directory: it does not start, says which option, and makes no CA there")
    func revocationCAMissing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portal-server-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("portal.sqlite").path
        _ = try SQLiteRegistrationStore(path: database)
        let root = directory.appendingPathComponent("root.pem")
        try TestCertificateAuthority(directory: directory.appendingPathComponent("ca")).rootCertificate(.eBidding)
            .serializeAsPEM().pemString.write(to: root, atomically: true, encoding: .utf8)
        let missing = directory.appendingPathComponent("no-ca")
        let process = Process()
        process.executableURL = ServerProcess.binary
        process.arguments = [
            "--db", database, "--listen", "127.0.0.1:0", "--origin", "http://127.0.0.1:8080", "--trust", root.path,
            "--revocation-ca", missing.path,
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.waitForExit() != 0)
        #expect(text.contains("--revocation-ca"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: missing.path))
    }

    @Test("SIGTERM lets a slow request in flight finish, then the server exits 0")
    func slowRequestSurvivesSIGTERM() async throws {
        let server = try ServerProcess(["--origin", "http://127.0.0.1:8080"])
        let process = server.process
        let port = server.port

        let body =
            #"{"format":"procurement-identity-evidence:1","origin":"http://127.0.0.1:8080","challengeID":"0","#
            + #""certificate":"AA==","signature":"AA==","algorithm":"RS256"}"#
        let connection = try RawConnection(port: port)
        connection.send(
            "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1:8080\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body.prefix(10))
        try await Task.sleep(for: .milliseconds(300))
        kill(process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(500))
        #expect(process.isRunning, "the server waits for the request in flight")
        connection.send(String(body.dropFirst(10)))
        let response = connection.readAll()
        #expect(response.hasPrefix("HTTP/1.1 422"), "\(response)")
        #expect(response.contains("application/problem+json"))

        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        #expect(throws: RawConnection.ConnectionRefused.self) { try RawConnection(port: port) }
    }
}

extension ExecutableTests {
    @Test("with --tls-cert and --tls-key it serves HTTPS, and the session cookie is Secure")
    func tls() async throws {
        let server = try ServerProcess(["--origin", "https://portal.example.jp"]) { directory in
            let key = directory.appendingPathComponent("tls-key.pem").path
            let certificate = directory.appendingPathComponent("tls-cert.pem").path
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", certificate, "-subj", "/CN=127.0.0.1", "-days", "1",
            ]
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            _ = openssl.waitForExit()
            return ["--tls-cert", certificate, "--tls-key", key]
        }
        #expect(server.scheme == "https")
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = [
            "-sk", "-i", "-X", "POST", "-H", "Origin: https://portal.example.jp",
            "https://127.0.0.1:\(server.port)/api/v1/logout",
        ]
        let output = Pipe()
        curl.standardOutput = output
        try curl.run()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = curl.waitForExit()
        #expect(answer.hasPrefix("HTTP/1.1 204"), "\(answer)")
        let cookie = try #require(answer.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") })
        #expect(cookie.contains("__Host-pi_session=;"))
        #expect(cookie.hasSuffix("; Secure"))
    }
}
