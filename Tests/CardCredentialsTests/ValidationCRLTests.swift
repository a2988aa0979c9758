import Foundation
import SwiftASN1
import Testing
import X509

@testable import CardCredentials

@Suite struct ValidationCRLTests {
    /// Makes a CA and a CRL with the `openssl` command line (`openssl ca -gencrl` over an index.txt).
    static func opensslCRL(in directory: URL) throws -> (caPEM: String, crlPEM: String, crlDER: [UInt8]) {
        let config = """
            [ ca ]
            default_ca = CA_default
            [ CA_default ]
            database = index.txt
            crlnumber = crlnumber
            default_md = sha256
            default_crl_days = 30
            certificate = ca.pem
            private_key = ca.key
            crl_extensions = crl_ext
            [ crl_ext ]
            authorityKeyIdentifier = keyid:always
            """
        try config.write(to: directory.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        // Serial, revocation date and reason, as `openssl ca -revoke` would record them.
        let index =
            [
                "R\t301231235959Z\t250101000000Z,keyCompromise\t1001\tunknown\t/CN=one",
                "R\t301231235959Z\t250202120000Z,superseded\t00C0FFEE\tunknown\t/CN=two",
                "R\t301231235959Z\t250303000000Z,affiliationChanged\t0123456789ABCDEF0123456789ABCDEF01234567\tunknown\t/CN=three",
                "R\t301231235959Z\t250404000000Z\t2002\tunknown\t/CN=four",
                "V\t301231235959Z\t\t3003\tunknown\t/CN=valid",
            ].joined(separator: "\n") + "\n"
        try index.write(to: directory.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
        try "unique_subject = no\n".write(
            to: directory.appendingPathComponent("index.txt.attr"), atomically: true, encoding: .utf8)
        try "1000\n".write(to: directory.appendingPathComponent("crlnumber"), atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "3650", "-subj", "/C=JP/O=OpenSSL Test CA/CN=オープンSSL CA", "-utf8",
            ],
            ["openssl", "ca", "-gencrl", "-config", "ca.cnf", "-out", "crl.pem", "-batch"],
            ["openssl", "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"],
        ]
        for step in steps {
            let result = try TestCertificates.run(step, in: directory)
            try #require(result.status == 0, "\(step.joined(separator: " ")): \(result.output)")
        }
        return (
            try String(contentsOf: directory.appendingPathComponent("ca.pem"), encoding: .utf8),
            try String(contentsOf: directory.appendingPathComponent("crl.pem"), encoding: .utf8),
            Array(try Data(contentsOf: directory.appendingPathComponent("crl.der")))
        )
    }

    @Test func readsACRLMadeByOpenSSL() throws {
        let directory = try TestCertificates.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = try Self.opensslCRL(in: directory)
        let ca = try Certificate(pemEncoded: made.caPEM)
        let fromPEM = try CertificateRevocationList(pemEncoded: made.crlPEM)
        let fromDER = try CertificateRevocationList(bytes: made.crlDER)
        let fromPEMBytes = try CertificateRevocationList(bytes: Array(made.crlPEM.utf8))
        for crl in [fromPEM, fromDER, fromPEMBytes] {
            #expect(crl.count == 4)
            #expect(crl.issuer == ca.subject)
            #expect(crl.isSignatureValid(issuer: ca))
            #expect(crl.crlNumber == "1000")
            #expect(crl.signatureAlgorithmOID == "1.2.840.113549.1.1.11")
            let next = try #require(crl.nextUpdate)
            #expect(abs(next.timeIntervalSince(crl.thisUpdate) - 30 * 86400) < 5)
            #expect(!crl.isStale(at: crl.thisUpdate))
            #expect(crl.isStale(at: next + 1))
        }
        let crl = fromDER
        let one = try #require(crl.entry(for: Certificate.SerialNumber(bytes: [0x10, 0x01])))
        #expect(one.reason == .keyCompromise)
        #expect(one.revocationDate == Date(timeIntervalSince1970: 1_735_689_600))  // 2025-01-01 00:00:00Z
        // openssl writes 00C0FFEE as the minimal positive INTEGER 00 C0 FF EE.
        #expect(crl.entry(for: Certificate.SerialNumber(bytes: [0x00, 0xC0, 0xFF, 0xEE]))?.reason == .superseded)
        let long = try #require(
            crl.entry(for: Certificate.SerialNumber(bytes: Array(try hex("0123456789ABCDEF0123456789ABCDEF01234567")))))
        #expect(long.reason == .affiliationChanged)
        let four = try #require(crl.entry(for: Certificate.SerialNumber(bytes: [0x20, 0x02])))
        #expect(four.reason == nil)
        #expect(!crl.contains(Certificate.SerialNumber(bytes: [0x30, 0x03])))  // valid, not revoked
        #expect(!crl.contains(Certificate.SerialNumber(bytes: [0x10])))
        #expect(crl.entries.count == 4)
        // Another key does not verify it.
        let other = try TestCertificates.makeRoot()
        #expect(!crl.isSignatureValid(issuer: other.certificate))
    }

    @Test func builderOutputIsReadByOpenSSLAndByTheParser() throws {
        let ca = try TestCertificates.makeRoot(rsa: true)
        var builder = CRLBuilder(
            issuer: ca.certificate.subject, thisUpdate: TestCertificates.now,
            nextUpdate: TestCertificates.now + 7 * 86400, crlNumber: 200)
        for n in 1...500 {
            builder.revoke(
                serialNumber: Certificate.SerialNumber(UInt32(n * 7919)), at: TestCertificates.now - 86400,
                reason: n % 2 == 0 ? .superseded : nil)
        }
        // A serial whose first byte has the high bit set must stay positive (a leading 00 in its INTEGER).
        let highBit = Certificate.SerialNumber(bytes: [0x80, 0x01, 0x02])
        builder.revoke(serialNumber: highBit, at: TestCertificates.now - 86400, reason: .keyCompromise)
        let der = try builder.sign(with: ca.key, algorithm: ca.algorithm)
        let crl = try CertificateRevocationList(derEncoded: der)
        #expect(crl.contains(highBit))
        #expect(crl.count == 501)
        #expect(crl.crlNumber == "00C8")
        #expect(crl.isSignatureValid(issuer: ca.certificate))
        #expect(crl.entry(for: Certificate.SerialNumber(UInt32(2 * 7919)))?.reason == .superseded)
        #expect(crl.entry(for: Certificate.SerialNumber(UInt32(7919)))?.reason == nil)
        #expect(crl.entry(for: Certificate.SerialNumber(UInt32(7919)))?.revocationDate == TestCertificates.now - 86400)
        #expect(!crl.contains(Certificate.SerialNumber(UInt32(7920))))

        let directory = try TestCertificates.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(der).write(to: directory.appendingPathComponent("b.crl"))
        try ca.certificate.serializeAsPEM().pemString.write(
            to: directory.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        let result = try TestCertificates.run(
            ["openssl", "crl", "-inform", "DER", "-in", "b.crl", "-CAfile", "ca.pem", "-noout", "-text"], in: directory)
        #expect(result.status == 0)
        #expect(result.output.contains("verify OK"))
        #expect(result.output.contains("Superseded"))
        #expect(result.output.contains("X509v3 CRL Number"))
        #expect(result.output.contains("Serial Number: 800102"))
        #expect(!result.output.contains("Serial Number: -"), "no serial may read as negative")
    }

    @Test func emptyCRLWithoutNextUpdate() throws {
        let ca = try TestCertificates.makeRoot()
        let builder = CRLBuilder(
            issuer: ca.certificate.subject, thisUpdate: TestCertificates.now, nextUpdate: nil, crlNumber: nil)
        let crl = try CertificateRevocationList(derEncoded: try builder.sign(with: ca.key, algorithm: ca.algorithm))
        #expect(crl.count == 0)
        #expect(crl.nextUpdate == nil)
        #expect(!crl.isStale(at: .distantFuture))
        #expect(crl.crlNumber == nil)
        #expect(crl.isSignatureValid(issuer: ca.certificate))
    }

    @Test func malformedCRLsAreRefused() throws {
        let ca = try TestCertificates.makeRoot()
        var builder = CRLBuilder(
            issuer: ca.certificate.subject, thisUpdate: TestCertificates.now, nextUpdate: TestCertificates.now + 86400)
        builder.revoke(
            serialNumber: Certificate.SerialNumber(UInt16(0x1234)), at: TestCertificates.now, reason: .keyCompromise)
        let good = try builder.sign(with: ca.key, algorithm: ca.algorithm)
        #expect(try CertificateRevocationList(derEncoded: good).count == 1)

        var cases: [(String, [UInt8])] = [
            ("empty", []),
            ("not a sequence", [0x04, 0x00]),
            ("truncated by one", Array(good.dropLast())),
            ("truncated to half", Array(good.prefix(good.count / 2))),
            ("trailing byte", good + [0x00]),
            ("length too long", [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
            ("five length bytes", [0x30, 0x85, 0, 0, 0, 0, 1]),
        ]
        // Corrupt the tag of the first entry's serial (INTEGER 02 → 04).
        if let at = firstIndex(of: [0x02, 0x02, 0x12, 0x34], in: good) {
            var bad = good
            bad[at] = 0x04
            cases.append(("serial not an INTEGER", bad))
        } else {
            Issue.record("serial not found in the test CRL")
        }
        // Break the revocation date's text (a digit turned into a letter).
        if let at = firstIndex(of: [0x02, 0x02, 0x12, 0x34, 0x17], in: good) {
            var bad = good
            bad[at + 6] = 0x41
            cases.append(("bad date", bad))
        }
        for (name, bytes) in cases {
            #expect(throws: CardCredentialsError.self, "\(name)") { try CertificateRevocationList(derEncoded: bytes) }
        }
        #expect(throws: CardCredentialsError.self) { try CertificateRevocationList(pemEncoded: "no pem here") }
        #expect(throws: CardCredentialsError.self) {
            try CertificateRevocationList(pemEncoded: try ca.certificate.serializeAsPEM().pemString)  // not a CRL
        }
        // A flipped signature byte parses but does not verify.
        var tampered = good
        tampered[tampered.count - 5] ^= 0x01
        let crl = try CertificateRevocationList(derEncoded: tampered)
        #expect(!crl.isSignatureValid(issuer: ca.certificate))
        // Errors name the damage.
        do {
            _ = try CertificateRevocationList(derEncoded: Array(good.dropLast()))
        } catch {
            #expect("\(error)".contains("revocation list could not be read"))
        }
    }

    @Test func timesDecode() {
        func decode(_ tag: UInt8, _ text: String) -> Date? {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer { DERTime.decode($0, tag: tag, from: 0, to: bytes.count) }
        }
        #expect(decode(0x17, "491231235959Z") == Date(timeIntervalSince1970: 2_524_607_999))
        #expect(decode(0x17, "500101000000Z") == Date(timeIntervalSince1970: -631_152_000))
        #expect(decode(0x18, "20500101000000Z") == Date(timeIntervalSince1970: 2_524_608_000))
        #expect(decode(0x18, "20240229120000.5Z") == Date(timeIntervalSince1970: 1_709_208_000.5))
        #expect(decode(0x17, "491231235959") == nil)
        #expect(decode(0x17, "4912312359Z") == nil)
        #expect(decode(0x17, "491331235959Z") == nil)
        #expect(decode(0x05, "491231235959Z") == nil)
    }

    private func hex(_ text: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.utf8)[...]
        while chars.count >= 2 {
            out.append(try #require(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)))
            chars = chars.dropFirst(2)
        }
        return out
    }

    private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
