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

@Suite("Graceful shutdown of the portal-server executable")
struct ShutdownTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("portal-server")
    }

    @Test("SIGTERM lets a slow request in flight finish, then the server exits 0")
    func slowRequestSurvivesSIGTERM() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.binary.path),
            "\(Self.binary.path) is missing: build first (swift build --build-tests)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portal-server-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let authority = try TestCertificateAuthority(directory: directory.appendingPathComponent("ca"))
        let root = directory.appendingPathComponent("root.pem")
        try authority.rootCertificate(.eBidding).serializeAsPEM().pemString.write(
            to: root, atomically: true, encoding: .utf8)
        let database = directory.appendingPathComponent("portal.sqlite").path
        _ = try SQLiteRegistrationStore(path: database)

        let process = Process()
        process.executableURL = Self.binary
        process.arguments = [
            "--db", database, "--listen", "127.0.0.1:0", "--origin", "http://127.0.0.1:8080", "--trust", root.path,
            "--log-level", "warning",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // "portal-server: listening on http://127.0.0.1:PORT (store …)"
        var line = ""
        while !line.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(
            line.split(separator: " ").first { $0.hasPrefix("http://") }.flatMap {
                Int($0.split(separator: ":").last ?? "")
            })

        let body = #"{"challengeID":"0","certificate":"AA==","signature":"AA==","algorithm":"RS256"}"#
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
