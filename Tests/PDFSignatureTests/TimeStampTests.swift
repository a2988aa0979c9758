import CardCredentials
import Foundation
import PDFSignature
import Testing
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// The throwaway time-stamp authority of Scripts/test-tsa (openssl ts -reply behind Python's http.server on
/// loopback), started once per run; it exits when this process closes its standard input.
struct TestTSA: Sendable {
    let port: Int
    let directory: URL

    static let shared: Result<TestTSA, any Error> = Result { try TestTSA() }
    static func get() throws -> TestTSA { try shared.get() }

    private init() throws {
        let script = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Scripts/test-tsa")
        directory = try PDFFixture.get().file("tsa")
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/python3")
        process.arguments = [script.standardizedFileURL.path, directory.path]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        // Not our standard error: `swift test` reads it to its end, and a server that outlived this process would
        // hold it open and stall the run.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory.appending(path: "server.log").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: directory.appending(path: "server.log"))
        try process.run()
        Self.keepAlive = (process, input)
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0A { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            throw TestTSAError(description: "Scripts/test-tsa did not print its port (is openssl installed?)")
        }
        self.port = port
    }

    nonisolated(unsafe) private static var keepAlive: (Process, Pipe)?

    /// The URL of one of the server's behaviours: ok, reject, garbage, wrong-imprint, wrong-nonce,
    /// http-error.
    func url(_ mode: String) -> URL { URL(string: "http://127.0.0.1:\(port)/\(mode)")! }

    var root: Certificate {
        get throws {
            try Certificate(pemEncoded: String(contentsOf: directory.appending(path: "tsa-ca.pem"), encoding: .utf8))
        }
    }
}

struct TestTSAError: Error, CustomStringConvertible {
    let description: String
}

/// A port on loopback where nothing listens.
func closedPort() -> Int {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
    }
    close(listener)
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite struct TimeStampTests {
    func timeStamped(_ mode: String = "ok", pdf: [UInt8] = SamplePDF.classic()) async throws -> [UInt8] {
        var options = PAdES.Options()
        options.timeStampAuthority = TimeStampAuthority(url: try TestTSA.get().url(mode))
        return try await PAdES.sign(pdf, with: try await PDFFixture.get().key(), options: options)
    }

    @Test func aTimeStampedSignatureCarriesAVerifiedToken() async throws {
        let fixture = try PDFFixture.get()
        let before = Date().addingTimeInterval(-2)
        let signed = try await timeStamped()
        // id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14) in the CMS.
        let (_, der) = try SignedParts.of(signed)
        let oid: [UInt8] = [0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x02, 0x0E]
        #expect(der.indices.contains { der[$0...].starts(with: oid) })

        let untrusted = try #require(try await PAdES.verify(signed, validator: fixture.validator).first)
        let stamp = try #require(untrusted.timeStamp)
        #expect(stamp.time >= before && stamp.time <= Date().addingTimeInterval(2))
        #expect(DirectoryString.display(stamp.authority.subject).contains("Test Time-Stamp Authority"))
        #expect(!untrusted.timeStampTrusted, "the TSA's root is not among the validator's anchors")

        let both = CertificateValidator(trustAnchors: [
            fixture.authority.rootCertificate(.jpkiSigning), try TestTSA.get().root,
        ])
        let trusted = try #require(try await PAdES.verify(signed, validator: both).first)
        #expect(trusted.timeStampTrusted)
        #expect(trusted.coversWholeDocument)
    }

    @Test func aSignatureWithoutTSAHasNoTimeStamp() async throws {
        let fixture = try PDFFixture.get()
        let signed = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        let report = try #require(try await PAdES.verify(signed, validator: fixture.validator).first)
        #expect(report.timeStamp == nil && !report.timeStampTrusted)
    }

    @Test(arguments: [
        ("reject", "refused the request (status 2, rejection: request refused (test))"),
        ("garbage", "not an RFC 3161 TimeStampResp"),
        ("wrong-imprint", "message imprint is not the hash of the signature value"),
        ("wrong-nonce", "does not echo the request's nonce"),
        ("http-error", "answered HTTP 500"),
    ])
    func aFailingTSAIsAClearError(mode: String, reason: String) async throws {
        do {
            _ = try await timeStamped(mode)
            Issue.record("a signature was made although the TSA answered \(mode)")
        } catch let error as PDFSignatureError {
            #expect(error.code == .timeStampFailed)
            #expect(error.reason.contains(reason), "\(error.reason)")
            #expect(error.description.contains("nothing was written"))
        }
    }

    @Test func aTSAThatIsDownIsAClearError() async throws {
        var options = PAdES.Options()
        options.timeStampAuthority = TimeStampAuthority(url: URL(string: "http://127.0.0.1:\(closedPort())/")!)
        do {
            _ = try await PAdES.sign(SamplePDF.classic(), with: try await PDFFixture.get().key(), options: options)
            Issue.record("a signature was made without its time-stamp")
        } catch let error as PDFSignatureError {
            #expect(error.code == .timeStampFailed)
            #expect(error.reason.contains("could not be reached"), "\(error.reason)")
        }
    }

    @Test(.enabled(if: verifiersInstalled)) func pdfsigAndQpdfAcceptATimeStampedSignature() async throws {
        let signed = try await timeStamped()
        try PAdESInteroperabilityTests().check(signed, name: "timestamped-\(UUID().uuidString).pdf")
    }

    static let pyHankoTimeStampScript = """
        import sys
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
        from pyhanko.keys import load_cert_from_pemder
        roots = [load_cert_from_pemder(path) for path in sys.argv[1:3]]
        with open(sys.argv[3], 'rb') as f:
            for signature in PdfFileReader(f).embedded_signatures:
                context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode='soft-fail')
                status = validate_pdf_signature(
                    signature, context, ts_validation_context=ValidationContext(
                        trust_roots=roots, allow_fetching=False, revocation_mode='soft-fail'))
                stamp = status.timestamp_validity
                print(signature.field_name, status.intact, status.valid, status.trusted, status.coverage.name)
                print('timestamp', stamp is not None and stamp.intact, stamp is not None and stamp.valid,
                      stamp is not None and stamp.trusted, stamp.timestamp.isoformat() if stamp else None)
        """

    @Test func pyHankoValidatesTheTimeStamp() async throws {
        let fixture = try PDFFixture.get()
        let signed = try await timeStamped()
        let pdf = fixture.file("pyhanko-bt-\(UUID().uuidString).pdf")
        try Data(signed).write(to: pdf)
        let output = try PyHankoTests().python(
            Self.pyHankoTimeStampScript,
            [fixture.file("root.pem").path, try TestTSA.get().directory.appending(path: "tsa-ca.pem").path, pdf.path])
        let lines = output.split(separator: "\n")
        #expect(lines.contains("Signature1 True True True ENTIRE_FILE"), "\(output)")
        #expect(lines.contains { $0.hasPrefix("timestamp True True True 20") }, "\(output)")
    }
}
