import CardCredentials
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@Suite("CMS SignedData: signing, verification, interoperability with openssl cms")
struct CMSTests {
    let fixtures: SigningFixtures
    let content = Array("入札書: 工事番号 R8-0042, 金額 12,345,000 円\n".utf8) + [0x00, 0xFF, 0x0D, 0x0A]

    init() throws {
        fixtures = try SigningFixtures.get()
    }

    var fileSigner: FileCredential {
        get throws {
            try FileCredential(
                privateKeyDER: Array(fixtures.rsaKey.derRepresentation), certificate: fixtures.rsaLeaf,
                chain: [fixtures.root.certificate])
        }
    }

    var cardSigner: CardKey {
        get throws {
            try CardKey(
                certificate: fixtures.rsaLeaf, operation: try SoftwareCardOperation(fixtures.rsaKey))
        }
    }

    var validator: CertificateValidator {
        CertificateValidator(trustAnchors: [fixtures.root.certificate], revocation: .none)
    }

    /// `openssl cms -verify` of a detached (with `content`) or attached signature; returns the status and, for
    /// attached signatures, the content openssl extracted.
    func opensslVerify(
        _ signature: [UInt8], content: [UInt8]?, inform: String = "DER"
    ) throws -> (status: Int32, output: String, extracted: [UInt8]?) {
        let signatureFile = try fixtures.write(signature, fixtures.uniqueName("p7s"))
        let out = fixtures.uniqueName("out")
        var arguments = [
            "cms", "-verify", "-binary", "-inform", inform, "-in", signatureFile, "-CAfile", "ca.pem",
            "-purpose",
            "any", "-out", out,
        ]
        if let content {
            arguments += ["-content", try fixtures.write(content, fixtures.uniqueName("bin"))]
        }
        let result = try fixtures.openssl(arguments)
        return (result.status, result.output, try? fixtures.read(out))
    }

    /// `openssl cms -sign` with the fixtures' RSA leaf.
    func opensslSign(detached: Bool, extra: [String] = [], outform: String = "DER") throws -> [UInt8] {
        let input = try fixtures.write(content, fixtures.uniqueName("bin"))
        let out = fixtures.uniqueName("p7s")
        let arguments =
            [
                "cms", "-sign", "-binary", "-md", "sha256", "-outform", outform, "-signer", "leaf.pem",
                "-inkey", "leaf.key.pem", "-in", input, "-out", out,
            ] + (detached ? [] : ["-nodetach"]) + extra
        let result = try fixtures.openssl(arguments)
        try #require(result.status == 0, "\(result.output)")
        return try fixtures.read(out)
    }

    // MARK: Our signatures, checked by openssl and by us

    @Test("A detached signature from a file key verifies with openssl cms and with our code")
    func detachedFileKey() async throws {
        let signingTime = Date(timeIntervalSince1970: 1_790_000_000)
        let signed = try await CMSSignedData.sign(
            content, with: try fileSigner, signingTime: signingTime)
        #expect(signed.isDetached)
        #expect(signed.certificates.count == 2)

        let openssl = try opensslVerify(signed.derEncoded, content: content)
        #expect(openssl.status == 0, "\(openssl.output)")
        #expect(openssl.output.contains("Verification successful"))

        let reread = try CMSSignedData(derEncoded: signed.derEncoded)
        let result = try await reread.verify(content: content, validator: validator)
        #expect(result.content == content)
        #expect(result.signers.count == 1)
        #expect(result.signers.first?.certificate == fixtures.rsaLeaf)
        #expect(result.signers.first?.algorithm == .rsaPKCS1SHA256)
        #expect(result.signers.first?.signingTime == signingTime)
        #expect(result.signers.first?.chain == [fixtures.rsaLeaf, fixtures.root.certificate])
        #expect(reread.signerInfos.first?.hasSignedAttributes == true)
    }

    @Test("An attached signature made by a card verifies with openssl cms, which returns the content")
    func attachedCardKey() async throws {
        let signed = try await CMSSignedData.sign(content, with: try cardSigner, detached: false)
        #expect(!signed.isDetached)
        #expect(signed.content == content)
        let openssl = try opensslVerify(signed.derEncoded, content: nil)
        #expect(openssl.status == 0, "\(openssl.output)")
        #expect(openssl.extracted == content)

        let result = try await signed.verify(validator: validator)
        #expect(result.content == content)
        #expect(result.signers.first?.certificate == fixtures.rsaLeaf)
    }

    @Test("A detached signature with its content attached afterwards verifies with openssl cms as a .p7m")
    func attachedAfterwards() async throws {
        let detached = try await CMSSignedData.sign(content, with: try cardSigner)
        let attached = try detached.attaching(content)
        #expect(!attached.isDetached)
        #expect(attached.content == content)
        #expect(attached.signerInfos.first?.signature == detached.signerInfos.first?.signature)
        let openssl = try opensslVerify(attached.derEncoded, content: nil)
        #expect(openssl.status == 0, "\(openssl.output)")
        #expect(openssl.extracted == content)
        #expect(try await attached.verify(validator: validator).content == content)
        // Other content: the structure is made, the signature no longer verifies.
        let other = try detached.attaching(Array("入札書: 金額 1 円".utf8))
        #expect(try opensslVerify(other.derEncoded, content: nil).status != 0)
        #expect(throws: CardCredentialsError.self) { try attached.attaching(content) }
    }

    @Test(
        "SHA-384, SHA-512 and ECDSA P-256 signatures verify with openssl cms",
        arguments: [SigningAlgorithm.rsaPKCS1SHA384, .rsaPKCS1SHA512, .ecdsaSHA256])
    func otherAlgorithms(algorithm: SigningAlgorithm) async throws {
        let signer: any Signer =
            algorithm.keyType == .ecdsa
            ? try FileCredential(
                privateKeyPEM: fixtures.ecKey.pemRepresentation, certificate: fixtures.ecLeaf)
            : try cardSigner
        let signed = try await CMSSignedData.sign(
            content, with: signer, algorithm: algorithm, includeChain: false)
        #expect(signed.certificates.count == 1)
        let openssl = try opensslVerify(signed.derEncoded, content: content)
        #expect(openssl.status == 0, "\(openssl.output)")
        let result = try await signed.verify(content: content, validator: validator)
        #expect(result.signers.first?.algorithm == algorithm)
    }

    @Test("PEM output (-----BEGIN CMS-----) verifies with openssl cms -inform PEM and reads back")
    func pemRoundTrip() async throws {
        let signed = try await CMSSignedData.sign(content, with: try fileSigner)
        let pem = signed.pemEncoded
        #expect(pem.hasPrefix("-----BEGIN CMS-----"))
        let openssl = try opensslVerify(Array(pem.utf8), content: content, inform: "PEM")
        #expect(openssl.status == 0, "\(openssl.output)")
        let reread = try CMSSignedData(bytes: Array("\n  \(pem)".utf8))
        #expect(reread.derEncoded == signed.derEncoded)
        _ = try await reread.verifySignaturesOnly(content: content)
    }

    // MARK: openssl's signatures, checked by us

    @Test(
        "openssl cms -sign detached and attached (DER) verify with our code", arguments: [true, false])
    func opensslSignatures(detached: Bool) async throws {
        let der = try opensslSign(detached: detached)
        let signed = try CMSSignedData(derEncoded: der)
        #expect(signed.isDetached == detached)
        let result = try await signed.verify(content: detached ? content : nil, validator: validator)
        #expect(result.content == content)
        #expect(result.signers.first?.certificate == fixtures.rsaLeaf)
        #expect(result.signers.first?.algorithm == .rsaPKCS1SHA256)
        #expect(result.signers.first?.signingTime != nil)
        if detached {
            await #expect(throws: CardCredentialsError.cmsContentMissing) { try await signed.verifySignaturesOnly() }
        }
    }

    @Test("openssl's PEM (-outform PEM) and no-attribute (-noattr) signatures verify with our code")
    func opensslVariants() async throws {
        let pem = try opensslSign(detached: true, outform: "PEM")
        let fromPEM = try CMSSignedData(bytes: pem)
        _ = try await fromPEM.verify(content: content, validator: validator)

        let noAttributes = try CMSSignedData(
            derEncoded: try opensslSign(detached: true, extra: ["-noattr"]))
        #expect(noAttributes.signerInfos.first?.hasSignedAttributes == false)
        _ = try await noAttributes.verify(content: content, validator: validator)
        await #expect(throws: CardCredentialsError.cmsSignatureInvalid) {
            try await noAttributes.verifySignaturesOnly(content: content + [0])
        }

        // -stream writes BER: indefinite lengths and the content as a constructed OCTET STRING.
        let streamed = try opensslSign(detached: false, extra: ["-stream"])
        #expect(streamed[1] == 0x80)
        let fromBER = try await CMSSignedData(derEncoded: streamed).verify(validator: validator)
        #expect(fromBER.content == content)

        let sha512 = try opensslSign(detached: false, extra: ["-md", "sha512"])
        let result = try await CMSSignedData(derEncoded: sha512).verifySignaturesOnly()
        #expect(result.signers.first?.algorithm == .rsaPKCS1SHA512)
    }

    // MARK: Negative cases

    @Test("Tampered content is refused by us and by openssl")
    func tamperedContent() async throws {
        let signed = try await CMSSignedData.sign(content, with: try cardSigner)
        var tampered = content
        tampered[3] ^= 0x01
        await #expect(throws: CardCredentialsError.cmsContentMismatch) {
            try await signed.verifySignaturesOnly(content: tampered)
        }
        #expect(try opensslVerify(signed.derEncoded, content: tampered).status != 0)

        let attached = try await CMSSignedData.sign(content, with: try cardSigner, detached: false)
        await #expect(throws: CardCredentialsError.cmsContentMismatch) {
            try await attached.verifySignaturesOnly(content: tampered)
        }
        // The content inside changed: flip a byte of the encapsulated content in the DER.
        var der = attached.derEncoded
        let start = try #require(Self.range(of: content, in: der))
        der[start + 3] ^= 0x01
        await #expect(throws: CardCredentialsError.cmsContentMismatch) {
            try await CMSSignedData(derEncoded: der).verifySignaturesOnly()
        }
    }

    @Test("A tampered signature or signed attribute is refused by us and by openssl")
    func tamperedSignature() async throws {
        let signed = try await CMSSignedData.sign(
            content, with: try fileSigner, signingTime: Date(timeIntervalSince1970: 1_790_000_000))
        // The signature value is the last element of the DER.
        var der = signed.derEncoded
        der[der.count - 10] ^= 0x01
        await #expect(throws: CardCredentialsError.cmsSignatureInvalid) {
            try await CMSSignedData(derEncoded: der).verifySignaturesOnly(content: content)
        }
        #expect(try opensslVerify(der, content: content).status != 0)

        // Change the signing time (UTCTime 260921141320Z) inside the signed attributes by one second.
        var attributes = signed.derEncoded
        let time = try #require(Self.range(of: Array("260921141320Z".utf8), in: attributes))
        attributes[time + 11] = UInt8(ascii: "1")
        let changed = try CMSSignedData(derEncoded: attributes)
        #expect(changed.signerInfos.first?.signingTime != Date(timeIntervalSince1970: 1_790_000_000))
        await #expect(throws: CardCredentialsError.cmsSignatureInvalid) {
            try await changed.verifySignaturesOnly(content: content)
        }
        #expect(try opensslVerify(attributes, content: content).status != 0)
    }

    @Test("A signature by another key than the certificate's, or an untrusted signer, is refused")
    func wrongCertificate() async throws {
        // Claims the "other" certificate but signs with the leaf key.
        let liar = MismatchedSigner(certificate: fixtures.otherLeaf, key: try fileSigner)
        let signed = try await CMSSignedData.sign(content, with: liar)
        await #expect(throws: CardCredentialsError.cmsSignatureInvalid) {
            try await signed.verifySignaturesOnly(content: content)
        }
        #expect(try opensslVerify(signed.derEncoded, content: content).status != 0)

        // A genuine signature, but the trust anchor is another root.
        let good = try await CMSSignedData.sign(content, with: try fileSigner)
        let otherRoot = try TestCertificates.makeRoot(name: "Unrelated Root")
        let strangers = CertificateValidator(trustAnchors: [otherRoot.certificate], revocation: .none)
        let error = await #expect(throws: CardCredentialsError.self) {
            try await good.verify(content: content, validator: strangers)
        }
        guard case .cmsSignerNotTrusted = error else {
            Issue.record("expected cmsSignerNotTrusted, got \(String(describing: error))")
            return
        }
        // Without its certificate (openssl cms -sign -nocerts) the signer cannot be found; given, it can.
        let bare = try CMSSignedData(derEncoded: try opensslSign(detached: true, extra: ["-nocerts"]))
        #expect(bare.certificates.isEmpty)
        await #expect(throws: CardCredentialsError.cmsSignerCertificateMissing) {
            try await bare.verifySignaturesOnly(content: content)
        }
        _ = try await bare.verify(
            content: content, certificates: [fixtures.rsaLeaf], validator: validator)
        await #expect(throws: CardCredentialsError.cmsSignerCertificateMissing) {
            try await bare.verifySignaturesOnly(content: content, certificates: [fixtures.otherLeaf])
        }
    }

    @Test("Truncated or foreign bytes are malformed CMS, never a crash")
    func truncated() async throws {
        let signed = try await CMSSignedData.sign(content, with: try fileSigner, detached: false)
        let der = signed.derEncoded
        for length in stride(from: 0, to: der.count, by: 37) {
            #expect(throws: CardCredentialsError.self) {
                try CMSSignedData(derEncoded: Array(der.prefix(length)))
            }
        }
        #expect(throws: CardCredentialsError.self) {
            try CMSSignedData(derEncoded: Array(der.dropLast()))
        }
        #expect(throws: CardCredentialsError.self) {
            try CMSSignedData(derEncoded: try self.fixtures.rsaLeaf.serializeAsPEM().derBytes)
        }
        #expect(throws: CardCredentialsError.self) {
            try CMSSignedData(bytes: Array("-----BEGIN CMS-----\n".utf8))
        }
        #expect(throws: CardCredentialsError.self) {
            try CMSSignedData(pemEncoded: try self.fixtures.rsaLeaf.serializeAsPEM().pemString)
        }
        let error = #expect(throws: CardCredentialsError.self) {
            try CMSSignedData(derEncoded: Array(der.prefix(100)))
        }
        guard case .malformedCMS = error else {
            Issue.record("expected malformedCMS, got \(String(describing: error))")
            return
        }
    }

    @Test(
        "Every single-bit flip in the versions and in the digestAlgorithms set is refused (none is signed)",
        arguments: ["ours", "openssl"])
    func unsignedFieldsChecked(producer: String) async throws {
        let der =
            producer == "ours"
            ? try await CMSSignedData.sign(content, with: try fileSigner).derEncoded
            : try opensslSign(detached: true)
        // The unaltered signature verifies.
        _ = try await CMSSignedData(derEncoded: der).verify(content: content, validator: validator)

        let root = try DER.parse(der)
        guard case .constructed(let contentInfo) = root.content, let wrapper = Array(contentInfo).last,
            case .constructed(let wrapped) = wrapper.content, let signedDataNode = Array(wrapped).first,
            case .constructed(let signedDataParts) = signedDataNode.content
        else {
            Issue.record("the signature's DER is not ContentInfo { [0] SignedData }")
            return
        }
        let parts = Array(signedDataParts)
        guard case .constructed(let signerSet) = try #require(parts.last).content,
            case .constructed(let signerParts) = try #require(Array(signerSet).first).content
        else {
            Issue.record("SignedData has no SignerInfo")
            return
        }
        let regions = [
            ("SignedData version", parts[0].encodedBytes.indices),
            ("digestAlgorithms", parts[1].encodedBytes.indices),
            ("SignerInfo version", try #require(Array(signerParts).first).encodedBytes.indices),
        ]
        for (name, range) in regions {
            for index in range {
                for bit in 0..<8 {
                    var flipped = der
                    flipped[index] ^= 1 << bit
                    let accepted: Bool
                    do {
                        _ = try await CMSSignedData(derEncoded: flipped).verify(content: content, validator: validator)
                        accepted = true
                    } catch {
                        accepted = false
                    }
                    #expect(!accepted, "\(name): byte \(index - range.lowerBound), bit \(bit) flipped still verifies")
                }
            }
        }
    }

    @Test("A version or digest list that breaks RFC 5652 says why")
    func unsignedFieldsReasons() async throws {
        let der = try await CMSSignedData.sign(content, with: try fileSigner).derEncoded
        // SignedData ::= SEQUENCE { version 1 (02 01 01), digestAlgorithms SET { SEQUENCE { sha-256, NULL } } …
        let version = try #require(Self.range(of: [0x02, 0x01, 0x01, 0x31], in: der))
        var three = der
        three[version + 2] = 3
        let versionError = #expect(throws: CardCredentialsError.self) { try CMSSignedData(derEncoded: three) }
        #expect("\(String(describing: versionError))".contains("requires 1"))

        // sha-256 (2.16.840.1.101.3.4.2.1) listed; make the listed one sha-224 (…2.4), which no signer uses.
        let sha256 = [UInt8]([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01])
        let listed = try #require(Self.range(of: sha256, in: der))
        var other = der
        other[listed + 8] = 0x04
        let digestError = #expect(throws: CardCredentialsError.self) { try CMSSignedData(derEncoded: other) }
        #expect("\(String(describing: digestError))".contains("is not listed"))
    }

    // MARK: Helpers

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }
}
