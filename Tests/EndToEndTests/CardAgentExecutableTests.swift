import CardAgent
import CardCredentials
import CardSimulator
import Foundation
import PCSC
import Testing
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// The `card-agent` executable as a page meets it: a process on a loopback port, asked over HTTP with the header
/// fields a browser sends (and those an attacker's page or a rebinding DNS name would), the card in the vpcd reader
/// of slot 0, PINs and consents answered by the scripted pinentry.
extension EndToEnd {
    @Suite("card-agent: the executable over HTTP through pcscd", .serialized)
    struct CardAgentExecutableTests {
        static let origin = "https://portal.example.jp"

        @Test(
            "Host and Origin: a rebinding name, a foreign or missing origin get 403 without CORS; a preflight of the portal is granted"
        )
        func admission() async throws {
            try await AgentProcess.with { agent in
                let status = try await agent.send("GET", "/v1/status")
                #expect(status.status == 200)
                #expect(status.header("Access-Control-Allow-Origin") == Self.origin)
                #expect(status.json?["origin"] as? String == Self.origin)

                let rebinding = try await agent.send("GET", "/v1/status", host: "attacker.example:\(agent.port)")
                #expect(rebinding.status == 403)
                #expect(rebinding.errorCode == "hostNotAllowed")
                #expect(rebinding.header("Access-Control-Allow-Origin") == nil)

                let foreign = try await agent.send("POST", "/v1/sign", origin: "https://attacker.example")
                #expect(foreign.status == 403)
                #expect(foreign.errorCode == "originNotAllowed")
                #expect(foreign.header("Access-Control-Allow-Origin") == nil)

                // A refused request's body is never read: a foreign page announcing an 8 MiB document (and sending
                // none of it) gets its 403 at once, where the agent would otherwise wait for the megabytes.
                let announced = try await agent.send(
                    "POST", "/v1/sign", origin: "https://attacker.example", declaredLength: 8 * 1024 * 1024,
                    timeout: .seconds(5))
                #expect(announced.status == 403, "\(announced.text)")
                #expect(announced.errorCode == "originNotAllowed")

                let missing = try await agent.send("GET", "/v1/cards", withoutOrigin: true)
                #expect(missing.errorCode == "originMissing")

                let preflight = try await agent.send(
                    "OPTIONS", "/v1/authenticate",
                    extra: [
                        ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type"),
                        ("Access-Control-Request-Private-Network", "true"),
                    ])
                #expect(preflight.status == 204)
                #expect(preflight.header("Access-Control-Allow-Origin") == Self.origin)
                #expect(preflight.header("Access-Control-Allow-Private-Network") == "true")
                let foreignPreflight = try await agent.send(
                    "OPTIONS", "/v1/authenticate", origin: "http://portal.example.jp",
                    extra: [("Access-Control-Request-Method", "POST")])
                #expect(foreignPreflight.status == 403)
                #expect(foreignPreflight.header("Access-Control-Allow-Origin") == nil)

                let tooLong = try await agent.send(
                    "POST", "/v1/authenticate", body: Array(repeating: 0x20, count: CardAgent.maximumBodyLength + 1))
                #expect(tooLong.status == 413)
                let unknown = try await agent.send("GET", "/v1/keys")
                #expect(unknown.status == 404)
            }
        }

        @Test(
            "another user's program on this computer is refused (otherUser) with a browser's Host and Origin",
            .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
        func otherUser() async throws {
            try await AgentProcess.with { agent in
                // The same request as this test's own, sent by python as user nobody (65534).
                let client = """
                    import http.client, sys
                    c = http.client.HTTPConnection("127.0.0.1", \(agent.port))
                    c.request("GET", "/v1/status", headers={"Origin": "\(Self.origin)"})
                    r = c.getresponse()
                    sys.stdout.write(str(r.status) + " " + r.read().decode())
                    """
                let result = try await OpenSCTools.run(
                    "setpriv",
                    ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", client])
                #expect(result.output.hasPrefix("403 "), "\(result.output) \(result.errorOutput)")
                #expect(result.output.contains("\"otherUser\""))
                let own = try await agent.send("GET", "/v1/status")
                #expect(own.status == 200)
            }
        }

        @Test(
            "pcscd stopped under the agent: a typed 503 in the answer, and the agent answers again once pcscd is back",
            .enabled(if: getuid() == 0, "stopping pcscd needs root"),
            .enabled(
                if: !FileManager.default.fileExists(atPath: "/run/systemd/system"), "systemd restarts pcscd itself"))
        func pcscdRestart() async throws {
            try await AgentProcess.with { agent in
                #expect(try await agent.send("GET", "/v1/cards").status == 200)
                try await PCSCDaemon.stop()
                let gone = try await agent.send("GET", "/v1/cards")
                try await PCSCDaemon.start()
                #expect(gone.status == 503, "\(gone.text)")
                #expect(gone.errorCode == "pcscUnavailable")
                #expect(gone.text.contains("pcscd"))
                var back = gone
                let deadline = ContinuousClock.now + .seconds(15)
                while back.status != 200 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                    back = try await agent.send("GET", "/v1/cards")
                }
                #expect(back.status == 200, "\(back.text)")
                let readers = try JSONDecoder().decode([String: [AgentReader]].self, from: back.body)["readers"]
                #expect((readers ?? []).filter { $0.name.hasPrefix("Virtual PCD") }.count == 2)
            }
        }

        @Test("the command line: --version, usage errors exit 64, no origin and a non-loopback address refused")
        func commandLine() async throws {
            let version = try await Tools.run("card-agent", ["--version"])
            #expect(version.output == "0.2.0-dev\n")
            let unknown = try await Tools.run("card-agent", ["--no-such-option"])
            #expect(unknown.status == 64)
            let environment = ["XDG_CONFIG_HOME": "/nonexistent"]
            let noOrigin = try await Tools.run("card-agent", [], environment: environment)
            #expect(noOrigin.status == 64)
            #expect(noOrigin.error.contains("No origin is allowed"), "\(noOrigin.error)")
            let everywhere = try await Tools.run(
                "card-agent", ["--allow-origin", Self.origin, "--listen", "0.0.0.0:24780"], environment: environment)
            #expect(everywhere.status == 64)
            #expect(everywhere.error.contains("loopback interface only"), "\(everywhere.error)")
            let pathOrigin = try await Tools.run(
                "card-agent", ["--allow-origin", Self.origin + "/login"], environment: environment)
            #expect(pathOrigin.status == 64)
        }

        @Test("the cards: a My Number card's kind and certificates, its fingerprint the SHA-256 of its certificate")
        func cards() async throws {
            let card = try CardAuthenticationTests.card()
            try await AgentProcess.with { agent in
                try await CardAuthenticationTests.withCard(card) { _ in
                    let answer = try await agent.send("GET", "/v1/cards")
                    #expect(answer.status == 200, "\(answer.text)")
                    let readers = try JSONDecoder().decode([String: [AgentReader]].self, from: answer.body)["readers"]
                    let inSlot = try #require(readers?.first { $0.card != nil })
                    #expect(inSlot.card?.kind == .myNumberCard)
                    #expect(answer.text.contains(#""kind":"myNumberCard""#), "the kind is its name in the JSON")
                    let der = try #require(inSlot.card?.certificates.first.flatMap { Data(base64Encoded: $0) })
                    #expect(Array(der) == card.snapshot.authenticationCertificate)
                    #expect(inSlot.card?.fingerprint == LowerHex.string(DigestAlgorithm.sha256.hash(Array(der))))
                }
            }
        }

        @Test("a document signature: the digest shown first, openssl cms -verify accepts it; declined: no PIN asked")
        func documentSignature() async throws {
            let document = Array("入札書: 金額 1,234,000 円\n".utf8)
            let request = try JSONEncoder().encode(DocumentSigningRequest(document: document, name: "入札書.txt"))
            let script = try ScriptedPinentry(["yes", "pin ABC123", "no"])
            defer { script.remove() }
            try await AgentProcess.with(script) { agent in
                try await CardAuthenticationTests.withCard(try CardAuthenticationTests.card()) { _ in
                    let answer = try await agent.send("POST", "/v1/sign", body: Array(request))
                    #expect(answer.status == 200, "\(answer.text)")
                    let signed = try JSONDecoder().decode(DocumentSignature.self, from: answer.body)
                    let digest = LowerHex.string(DigestAlgorithm.sha256.hash(document))
                    #expect(signed.digest == digest)
                    let consent = try #require(script.log.first { $0.hasPrefix("SETDESC ") })
                    #expect(consent.contains("入札書.txt (\(document.count) bytes)"))
                    #expect(consent.contains("SHA-256: \(digest.prefix(8)) \(digest.dropFirst(8).prefix(8))"))
                    #expect(consent.contains(Self.origin))
                    try await Self.opensslVerifies(signed, document: document)

                    let declined = try await agent.send("POST", "/v1/sign", body: Array(request))
                    #expect(declined.status == 409)
                    #expect(declined.errorCode == "cancelled")
                    #expect(script.answersUsed == 3)
                    #expect(script.log.filter { $0 == "GETPIN" }.count == 1)
                    #expect(!script.log.contains { $0.contains("ABC123") && !$0.hasPrefix("D ") })
                }
            }
        }

        @Test("the swap: the same card put back is not the new card; a different one is; a page cancels a wait")
        func swap() async throws {
            let old = try CardAuthenticationTests.card()
            let new = try CardAuthenticationTests.card()
            try await AgentProcess.with { agent in
                let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
                try await server.insert(old)
                try await CardAuthenticationTests.waitUntil(present: true)
                async let swapped = agent.send("POST", "/v1/swap", body: Array(#"{"timeoutSeconds":30}"#.utf8))
                try await Task.sleep(for: .milliseconds(800))
                await server.remove()
                try await CardAuthenticationTests.waitUntil(present: false)
                try await server.insert(old)
                try await CardAuthenticationTests.waitUntil(present: true)
                try await Task.sleep(for: .milliseconds(500))
                await server.remove()
                try await CardAuthenticationTests.waitUntil(present: false)
                try await server.insert(new)
                let answer = try await swapped
                #expect(answer.status == 200, "\(answer.text)")
                let reader = try JSONDecoder().decode(AgentReader.self, from: answer.body)
                let der = try #require(reader.card?.certificates.first.flatMap { Data(base64Encoded: $0) })
                #expect(Array(der) == new.snapshot.authenticationCertificate)
                #expect(Array(der) != old.snapshot.authenticationCertificate)

                async let waiting = agent.send("POST", "/v1/swap", body: Array(#"{"timeoutSeconds":30}"#.utf8))
                try await Task.sleep(for: .milliseconds(800))
                let cancel = try await agent.send("POST", "/v1/swap/cancel")
                #expect(cancel.json?["cancelled"] as? Int == 1)
                let cancelled = try await waiting
                #expect(cancelled.status == 409)
                #expect(cancelled.errorCode == "cancelled")
                await server.remove()
                try await CardAuthenticationTests.waitUntil(present: false)
            }
        }

        static func opensslVerifies(_ signed: DocumentSignature, document: [UInt8]) async throws {
            let directory = FileManager.default.temporaryDirectory.appending(path: "agent-sign-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let documentFile = directory.appending(path: "bid.txt")
            let signatureFile = directory.appending(path: "bid.txt.p7s")
            let rootFile = directory.appending(path: "sign-root.pem")
            try Data(document).write(to: documentFile)
            try #require(Data(base64Encoded: signed.signature)).write(to: signatureFile)
            let root = try CardAuthenticationTests.authority.get().rootCertificate(.jpkiSigning)
            try root.serializeAsPEM().pemString.write(to: rootFile, atomically: true, encoding: .utf8)
            func verify() async throws -> OpenSCTools.Result {
                try await OpenSCTools.run(
                    "openssl",
                    [
                        "cms", "-verify", "-binary", "-inform", "DER", "-in", signatureFile.path, "-content",
                        documentFile.path, "-CAfile", rootFile.path, "-purpose", "any", "-out", "/dev/null",
                    ])
            }
            let verified = try await verify()
            #expect(verified.status == 0, "openssl cms -verify: \(verified.errorOutput)")
            try Data(document + [0x20]).write(to: documentFile)
            #expect(try await verify().status != 0)
        }
    }
}

/// A `card-agent` process on a free loopback port, allowing `origin` (by default
/// ``EndToEnd/CardAgentExecutableTests/origin``).
struct AgentProcess {
    let port: Int
    let origin: String

    static func with(
        _ script: ScriptedPinentry? = nil, origin: String = EndToEnd.CardAgentExecutableTests.origin,
        log: URL? = nil, _ body: (AgentProcess) async throws -> Void
    ) async throws {
        let binary = Tools.binDirectory.appending(path: "card-agent")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build card-agent first")
        let port = try freePort()
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "--allow-origin", origin, "--listen", "127.0.0.1:\(port)", "--log-level", log == nil ? "warning" : "info",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = "/nonexistent"
        environment["PI_PINENTRY"] = ScriptedPinentry.program
        let answers = try script ?? ScriptedPinentry([])
        environment["SCRIPTED_PINENTRY_ANSWERS"] = answers.answersFile.path
        environment["SCRIPTED_PINENTRY_LOG"] = answers.logFile.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        defer {
            process.terminate()
            _ = process.waitForExit(killingAfter: .seconds(10))
            if script == nil { answers.remove() }
        }
        // "card-agent: listening on http://127.0.0.1:PORT", read off the cooperative pool.
        let line = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var line = ""
                while !line.contains("\n") {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    line += String(decoding: chunk, as: UTF8.self)
                }
                continuation.resume(returning: line)
            }
        }
        try #require(line.contains("listening on http://127.0.0.1:\(port)"), "card-agent said: \(line)")
        try await body(AgentProcess(port: port, origin: origin))
    }

    /// A port the kernel just gave out and took back: free now, and very likely in a moment.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try #require(bound, "no free port")
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: Data
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    }

    /// One HTTP/1.1 request on a connection of its own, written byte for byte (a browser's Host and Origin, or
    /// an attacker's), and its answer read to the connection's close.
    func send(
        _ method: String, _ path: String, host: String? = nil, origin: String? = nil, withoutOrigin: Bool = false,
        extra: [(String, String)] = [], body: [UInt8] = [], declaredLength: Int? = nil, timeout: Duration? = nil
    ) async throws -> Answer {
        let origin = withoutOrigin ? nil : origin ?? self.origin
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        if let origin { head += "Origin: \(origin)\r\n" }
        if !body.isEmpty || method == "POST" {
            head += "Content-Type: application/json\r\nContent-Length: \(declaredLength ?? body.count)\r\n"
        }
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        let port = port
        let raw: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.exchange(request, port: port, timeout: timeout) })
            }
        }
        guard let split = raw.firstRange(of: Array("\r\n\r\n".utf8)) else {
            Issue.record("no HTTP answer: \(String(decoding: raw, as: UTF8.self))")
            throw CancellationError()
        }
        let lines = String(decoding: raw[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Answer(status: status, headers: headers, body: Data(raw[split.upperBound...]))
    }

    /// Writes `request` and reads to the close; with `timeout`, a read that waits longer ends the answer there.
    private static func exchange(_ request: [UInt8], port: Int, timeout: Duration? = nil) throws -> [UInt8] {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        if let timeout {
            var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw POSIXError(.ECONNREFUSED) }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += buffer[..<n]
        }
        return answer
    }
}
