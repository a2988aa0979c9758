import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import JPKI
import Synchronization
import Testing
import X509

/// Commands a channel sent, as its tracer saw them.
final class CommandLog: Sendable {
    private let commands = Mutex<[CommandAPDU]>([])
    var all: [CommandAPDU] { commands.withLock { $0 } }
    func record(_ command: CommandAPDU) { commands.withLock { $0.append(command) } }
}

/// Runs openssl with arguments in a directory; returns its status and merged output.
func openssl(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    return (process.waitForExit(), String(decoding: output, as: UTF8.self))
}

@Suite struct SigningTests {
    let signingPIN: SecretPIN
    init() throws { signingPIN = try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning) }

    @Test(arguments: [
        (SigningAlgorithm.rsaPKCS1SHA256, "3031300d060960864801650304020105000420"),
        (.rsaPKCS1SHA384, "3041300d060960864801650304020205000430"),
        (.rsaPKCS1SHA512, "3051300d060960864801650304020305000440"),
    ])
    func theCardSignsTheRFC8017DigestInfo(algorithm: SigningAlgorithm, prefix: String) async throws {
        let fixture = try Fixture.get()
        let slot = SimulatedSlot()
        slot.insert(try fixture.card())
        let log = CommandLog()
        var configuration = CardChannel.Configuration()
        configuration.tracer = { command, _ in log.record(command) }
        let card = MyNumberCard(channel: CardChannel(transport: try await slot.connect(), configuration: configuration))
        let key = try await card.signingKey(pin: signingPIN)
        let message = Array("入札書 2026-11-23".utf8)
        let signature = try await key.sign(message, algorithm: algorithm)
        // CardKey checked it already; check it once more against the certificate from the snapshot.
        let certificate = try Certificate(derEncoded: fixture.snapshot.signingCertificate)
        #expect(
            certificate.publicKey.isValidSignature(
                signature, for: message, signatureAlgorithm: algorithm.certificateSignatureAlgorithm))
        let sign = try #require(log.all.last)
        #expect(sign.cla == 0x80 && sign.ins == 0x2A && sign.p1 == 0x00 && sign.p2 == 0x80)
        #expect(sign.expectedLength == 256)
        let digest = algorithm.digest.hash(message)
        #expect(sign.data == (try Hex.decode(prefix)) + digest)
        #expect(try sign.encoded() == [0x80, 0x2A, 0x00, 0x80, UInt8(sign.data.count)] + sign.data + [0x00])
        // The key EF selected just before is 001A.
        let select = log.all[log.all.count - 2]
        #expect(select.ins == 0xA4 && select.data == [0x00, 0x1A])
    }

    @Test func theAuthenticationKeySignsAfterTheAuthenticationPIN() async throws {
        let fixture = try Fixture.get()
        let (_, _, card) = try await fixture.client()
        let pin = try SecretPIN(Fixture.authenticationPIN, policy: .jpkiAuthentication)
        let key = try await card.authenticationKey(pin: pin, includeCACertificate: true)
        #expect(key.certificate == (try Certificate(derEncoded: fixture.snapshot.authenticationCertificate)))
        #expect(key.chain == [try Certificate(derEncoded: fixture.snapshot.authenticationCACertificate)])
        let challenge = (0..<32).map { UInt8($0) }
        _ = try await key.sign(challenge, algorithm: .rsaPKCS1SHA256)
        // Without a PIN, the card refuses: nothing verified in a fresh session.
        let (_, _, fresh) = try await fixture.client()
        let digestInfo = DigestInfo(hashing: challenge, with: .sha256).derEncoded
        await #expect(throws: JPKIError.pinNotVerified(.authentication)) {
            _ = try await fresh.signDigestInfo(digestInfo, with: .authentication)
        }
    }

    @Test func aCorruptedSignatureIsCaughtBeforeItIsReturned() async throws {
        let faults = FaultInjector()
        let (_, _, card) = try await Fixture.get().client(faults: faults)
        let key = try await card.signingKey(pin: signingPIN)
        faults.arm(.corruptResponse, matching: { $0.ins == 0x2A })
        await #expect(throws: CardCredentialsError.cardSignatureInvalid) {
            _ = try await key.sign(Array("x".utf8), algorithm: .rsaPKCS1SHA256)
        }
    }

    @Test func aCMSSignatureByTheCardVerifiesWithOpenSSL() async throws {
        let fixture = try Fixture.get()
        let (_, _, card) = try await fixture.client()
        let key = try await card.signingKey(pin: signingPIN)
        let content = Array("令和8年度 物品調達 入札書\n".utf8)
        let signed = try await CMSSignedData.sign(content, with: key)
        #expect(signed.isDetached)
        let directory = fixture.directory.appending(path: "cms-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(signed.derEncoded).write(to: directory.appending(path: "doc.p7s"))
        try Data(content).write(to: directory.appending(path: "doc.txt"))
        try fixture.authority.rootCertificatePEM(.jpkiSigning).write(
            to: directory.appending(path: "ca.pem"), atomically: true, encoding: .utf8)
        let result = try openssl(
            [
                "cms", "-verify", "-binary", "-inform", "DER", "-in", "doc.p7s", "-content", "doc.txt", "-CAfile",
                "ca.pem", "-purpose", "any", "-out", "/dev/null",
            ], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Verification successful"))
        // A changed document fails.
        try Data(content + [0x0A]).write(to: directory.appending(path: "doc.txt"))
        let tampered = try openssl(
            [
                "cms", "-verify", "-binary", "-inform", "DER", "-in", "doc.p7s", "-content", "doc.txt", "-CAfile",
                "ca.pem", "-purpose", "any", "-out", "/dev/null",
            ], in: directory)
        #expect(tampered.status != 0)
        // And our own verification agrees, with the simulator's root as trust anchor.
        let validator = CertificateValidator(trustAnchors: [fixture.authority.rootCertificate(.jpkiSigning)])
        let verified = try await signed.verify(content: content, validator: validator)
        #expect(verified.signers.first?.certificate == key.certificate)
    }

    @Test func theCardSignsACertificateSigningRequest() async throws {
        let (_, _, card) = try await Fixture.get().client()
        let key = try await card.signingKey(pin: signingPIN)
        let subject = try DistinguishedName { CommonName("JPKI CSR test") }
        let csr = try await CertificateSigningRequest(
            version: .v1, subject: subject, asyncPrivateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .sha256WithRSAEncryption)
        #expect(csr.publicKey == key.certificate.publicKey)
        #expect(
            key.certificate.publicKey.isValidSignature(
                csr.signature, for: csr))
    }
}
