import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import Testing
import X509

@Suite struct TestCertificateAuthorityTests {
    @Test func aTemporaryAuthorityRemovesItsDirectoryWhenReleased() throws {
        var authority: TestCertificateAuthority? = try TestCertificateAuthority.temporary()
        let directory = try #require(authority?.directory)
        let card = try JPKICard.issue(
            by: try #require(authority), holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
        #expect(!card.snapshot.signingCertificate.isEmpty)
        #expect(FileManager.default.fileExists(atPath: directory.appending(path: "index.json").path))
        authority = nil
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        // A directory given by the caller stays.
        let kept = FileManager.default.temporaryDirectory.appending(path: "ca-kept-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: kept) }
        var named: TestCertificateAuthority? = try TestCertificateAuthority(directory: kept)
        #expect(named != nil)
        named = nil
        #expect(FileManager.default.fileExists(atPath: kept.path))
    }

    @Test func signingCertificateCarriesTheJPKIProfile() throws {
        let fixture = try Fixture.get()
        let certificate = try Certificate(derEncoded: fixture.jpki.signingCertificate)
        let types = Array(certificate.subject).flatMap { Array($0) }.map(\.type)
        #expect(
            types == [
                .RDNAttributeType.countryName, .RDNAttributeType.localityName, .RDNAttributeType.localityName,
                .RDNAttributeType.commonName,
            ])
        #expect(certificate.subject.description.hasSuffix(",L=千代田区,L=東京都,C=JP"))
        let keyUsage = try #require(try certificate.extensions.keyUsage)
        #expect(keyUsage.digitalSignature && keyUsage.nonRepudiation && !keyUsage.keyEncipherment)
        #expect(certificate.extensions.first { $0.oid == [2, 5, 29, 15] }?.critical == true)
        // Read back by CardCredentials' own JPKI reader.
        let person = try #require(JPKIPersonalAttributes(certificate: certificate))
        #expect(person.name == "試験\u{3000}花子")
        #expect(person.sexCode == "2")
        #expect(person.dateOfBirthText == "319850401")  // 昭和 = 3
        #expect(person.dateOfBirth?.era == .showa)
        #expect(person.address == "東京都千代田区霞が関二丁目１番２号")
        let policies = try #require(certificate.extensions.first { $0.oid == [2, 5, 29, 32] })
        // Critical, as in the J-LIS profile: SEQUENCE { SEQUENCE { OID 1.2.392.200149.8.5.1.1.20, the CPS
        // qualifier } }.
        #expect(policies.critical)
        let policyOID: [UInt8] = [0x06, 0x0B, 0x2A, 0x83, 0x08, 0x8C, 0x9B, 0x55, 0x08, 0x05, 0x01, 0x01, 0x14]
        #expect(Array(policies.value.dropFirst(4).prefix(policyOID.count)) == policyOID)
        #expect(String(decoding: policies.value, as: UTF8.self).contains("http://www.jpki.go.jp/cps.html"))
        #expect(certificate.extensions.first { $0.oid == [2, 5, 29, 18] } != nil)
        let root = fixture.authority.rootCertificate(.jpkiSigning)
        #expect(certificate.issuer == root.subject)
        #expect(root.publicKey.isValidSignature(certificate.signature, for: certificate))
    }

    @Test func authenticationCertificateHasAnOpaqueNameOnly() throws {
        let certificate = try Certificate(derEncoded: try Fixture.get().jpki.authenticationCertificate)
        #expect(Array(certificate.subject).count == 1)
        #expect(try certificate.extensions.subjectAlternativeNames == nil)
        let keyUsage = try #require(try certificate.extensions.keyUsage)
        #expect(keyUsage.digitalSignature && !keyUsage.nonRepudiation)
    }

    @Test func validityChoices() throws {
        let now = Date()
        let expired = CertificateValidity.expired(daysAgo: 2, from: now)
        #expect(expired.notValidAfter < now)
        let expiring = CertificateValidity.expiring(inDays: 20, from: now)
        #expect(expiring.notValidAfter > now)
        #expect(expiring.notValidAfter < now.addingTimeInterval(21 * 86_400))
        let fixture = try Fixture.get()
        let key = try CardRSAKey.generate()
        let certificate = try fixture.authority.issueEBiddingCertificate(
            for: .example, publicKey: key, validity: expired)
        #expect(certificate.notValidAfter < now)
    }

    @Test func revokesAndPublishesSignedCRLs() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ca-crl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let authority = try TestCertificateAuthority(directory: directory)
        let key = try CardRSAKey.generate()
        let kept = try authority.issueEBiddingCertificate(for: .example, publicKey: key, validity: .valid())
        let lost = try authority.issueEBiddingCertificate(for: .example, publicKey: key, validity: .valid())
        let renewed = try authority.issueJPKISigningCertificate(for: .example, publicKey: key, validity: .valid())
        let revokedAt = Date(timeIntervalSince1970: 1_790_000_000)
        try authority.revoke(lost.serialNumber, reason: .keyCompromise, at: revokedAt)
        try authority.revoke(renewed.serialNumber, reason: .superseded)
        #expect(throws: CardSimulatorError.self) {
            try authority.revoke(Certificate.SerialNumber(bytes: [0x01, 0x02]), reason: .unspecified)
        }

        let thisUpdate = Date(timeIntervalSince1970: 1_800_000_000)
        let der = try authority.publishCRL(
            for: .eBidding, thisUpdate: thisUpdate, nextUpdate: thisUpdate.addingTimeInterval(7 * 86_400))
        let crl = try CertificateRevocationList(bytes: der)
        #expect(crl.isSignatureValid(issuer: authority.rootCertificate(.eBidding)))
        #expect(!crl.isSignatureValid(issuer: authority.rootCertificate(.jpkiSigning)))
        #expect(crl.count == 1)
        #expect(crl.thisUpdate == thisUpdate)
        #expect(crl.nextUpdate == thisUpdate.addingTimeInterval(7 * 86_400))
        #expect(crl.entry(for: lost.serialNumber)?.reason == .keyCompromise)
        #expect(crl.entry(for: lost.serialNumber)?.revocationDate == revokedAt)
        #expect(crl.entry(for: kept.serialNumber) == nil)
        #expect(try Array(Data(contentsOf: directory.appending(path: "eBidding/crl.der"))) == der)

        // Serials are 20 octets with the top bit clear (RFC 5280 §4.1.2.2: at most 20 octets, positive), so the
        // INTEGER needs no sign padding: NSS cannot match a 21-octet serial to a CMS signer.
        let another = try authority.issueEBiddingCertificate(for: .example, publicKey: key, validity: .valid())
        let serial = Array(another.serialNumber.bytes)
        #expect(serial.count == 20 && serial[0] < 0x80 && serial[0] != 0)
        try authority.revoke(another.serialNumber, reason: .cessationOfOperation)
        let padded = try authority.publishCRL(for: .eBidding)
        let integer: [UInt8] = [0x02, UInt8(serial.count)] + serial
        #expect(padded.indices.contains { padded[$0...].starts(with: integer) })

        let signing = try CertificateRevocationList(bytes: try authority.publishCRL(for: .jpkiSigning))
        #expect(signing.entry(for: renewed.serialNumber)?.reason == .superseded)
        // CRL numbers count per hierarchy.
        let second = try CertificateRevocationList(bytes: padded)
        #expect(crl.crlNumber.map { Int($0, radix: 16) } == 1)
        #expect(second.crlNumber.map { Int($0, radix: 16) } == 2)
    }

    @Test func reopensFromItsDirectoryAndSharesIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ca-share-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try TestCertificateAuthority(directory: directory)
        let key = try CardRSAKey.generate()
        // Two instances (as two processes would) issue at once; the lock keeps every record.
        let second = try TestCertificateAuthority(directory: directory)
        #expect(second.rootCertificate(.eBidding) == first.rootCertificate(.eBidding))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for authority in [first, second, first, second] {
                group.addTask {
                    _ = try authority.issueEBiddingCertificate(for: .example, publicKey: key, validity: .valid())
                }
            }
            try await group.waitForAll()
        }
        #expect(try first.issuedCertificates().count == 4)
        let keyFile = directory.appending(path: "eBidding/key.pem")
        let permissions = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }

    @Test func damagedStateIsReported() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ca-bad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let authority = try TestCertificateAuthority(directory: directory)
        try Data("{ not json".utf8).write(to: directory.appending(path: "index.json"))
        #expect(throws: CardSimulatorError.self) { try authority.issuedCertificates() }
        try Data("garbage".utf8).write(to: directory.appending(path: "jpkiSigning/certificate.pem"))
        #expect(throws: CardSimulatorError.self) { try TestCertificateAuthority(directory: directory) }
    }

    @Test func keysSignAsCardsDo() throws {
        let key = try CardRSAKey.generate()
        #expect(key.bitCount == 2048)
        let again = try CardRSAKey(pemRepresentation: key.pemRepresentation)
        #expect(again.publicKeyDER == key.publicKeyDER)
        #expect(throws: CardSimulatorError.self) { try key.signPKCS1(digestInfo: []) }
        #expect(throws: CardSimulatorError.self) { try key.signPKCS1(digestInfo: [UInt8](repeating: 1, count: 246)) }
        #expect(throws: CardSimulatorError.self) { try CardRSAKey(pemRepresentation: "not a key") }
        // PKCS#1 v1.5 signatures are deterministic.
        let info = try ISO7816.Hex.decode(abcDigestInfo)
        #expect(try key.signPKCS1(digestInfo: info) == again.signPKCS1(digestInfo: info))
    }
}
