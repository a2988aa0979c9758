import Foundation
import Testing
import X509

@testable import CardCredentials

@Suite struct ValidationTests {
    let now = TestCertificates.now
    let day = TestCertificates.day

    struct PKI {
        var root: TestCertificates.Authority
        var issuing: TestCertificates.Authority
        var leaf: Certificate
    }

    func makePKI(keyUsage: KeyUsage? = KeyUsage(digitalSignature: true, nonRepudiation: true)) throws -> PKI {
        let root = try TestCertificates.makeRoot()
        let issuing = try TestCertificates.makeIntermediate(under: root)
        let leaf = try TestCertificates.makeLeaf(under: issuing, keyUsage: keyUsage)
        return PKI(root: root, issuing: issuing, leaf: leaf)
    }

    func crl(
        by authority: TestCertificates.Authority, thisUpdate: Date? = nil, nextUpdate: Date? = nil,
        revoking: [(Certificate, Date, RevocationReason?)] = [], signer: TestCertificates.Authority? = nil
    ) throws -> CertificateRevocationList {
        var builder = CRLBuilder(
            issuer: authority.certificate.subject, thisUpdate: thisUpdate ?? now - day,
            nextUpdate: nextUpdate ?? now + 6 * day)
        for (certificate, date, reason) in revoking {
            builder.revoke(serialNumber: certificate.serialNumber, at: date, reason: reason)
        }
        let key = signer ?? authority
        return try CertificateRevocationList(derEncoded: try builder.sign(with: key.key, algorithm: key.algorithm))
    }

    func validator(_ pki: PKI, crls: [CertificateRevocationList] = [], revocation: RevocationCheck = .required)
        -> CertificateValidator
    {
        CertificateValidator(
            trustAnchors: [pki.root.certificate], intermediates: [pki.issuing.certificate], crls: crls,
            revocation: revocation)
    }

    @Test func validChainWithCRLs() async throws {
        let pki = try makePKI()
        let crls = [try crl(by: pki.root), try crl(by: pki.issuing)]
        let result = await validator(pki, crls: crls).validate(pki.leaf, for: .signing, at: now)
        guard case .valid(let chain) = result else {
            Issue.record("expected valid, got \(result)")
            return
        }
        #expect(chain == [pki.leaf, pki.issuing.certificate, pki.root.certificate])
        #expect(result.isValid)
        #expect(await validator(pki, crls: crls).validate(pki.leaf, for: .authentication, at: now).isValid)
    }

    @Test func untrustedChain() async throws {
        let pki = try makePKI()
        let stranger = try TestCertificates.makeRoot(name: "Another Root")
        let validator = CertificateValidator(
            trustAnchors: [stranger.certificate], intermediates: [pki.issuing.certificate], revocation: .none)
        let result = await validator.validate(pki.leaf, for: .signing, at: now)
        guard case .untrustedChain = result else {
            Issue.record("expected untrustedChain, got \(result)")
            return
        }
        #expect(!result.isValid)
        #expect(result.description.contains("trusted root"))
        // Without the intermediate the chain breaks too.
        let noIntermediate = CertificateValidator(trustAnchors: [pki.root.certificate], revocation: .none)
        guard case .untrustedChain = await noIntermediate.validate(pki.leaf, for: .signing, at: now) else {
            Issue.record("a chain was built without its intermediate")
            return
        }
    }

    @Test func expiredAndNotYetValid() async throws {
        let pki = try makePKI()
        let validator = validator(pki, revocation: .none)
        let late = now + 400 * day
        #expect(
            await validator.validate(pki.leaf, for: .signing, at: late)
                == .expired(notAfter: pki.leaf.notValidAfter, subject: DirectoryString.display(pki.leaf.subject)))
        let early = now - 60 * day
        #expect(
            await validator.validate(pki.leaf, for: .signing, at: early)
                == .notYetValid(
                    notBefore: pki.leaf.notValidBefore, subject: DirectoryString.display(pki.leaf.subject)))
        // An expired intermediate under a leaf that is still in date is named as the expired one.
        let longLeaf = try TestCertificates.makeLeaf(under: pki.issuing, notAfter: now + 3000 * day)
        let result = await validator.validate(longLeaf, for: .signing, at: now + 2000 * day)
        #expect(
            result
                == .expired(
                    notAfter: pki.issuing.certificate.notValidAfter,
                    subject: DirectoryString.display(pki.issuing.certificate.subject)))
        // 2026-05-28 20:26:40 UTC is 2026-05-29 in Japan.
        let description = ValidationResult.expired(notAfter: now, subject: "CN=x").description
        #expect(description.contains("expired") && description.contains("2026/05/29"))
    }

    @Test func keyUsageForThePurpose() async throws {
        let nonRepudiationOnly = try makePKI(keyUsage: KeyUsage(nonRepudiation: true))
        #expect(
            await validator(nonRepudiationOnly, revocation: .none).validate(
                nonRepudiationOnly.leaf, for: .signing, at: now
            ).isValid)
        #expect(
            await validator(nonRepudiationOnly, revocation: .none).validate(
                nonRepudiationOnly.leaf, for: .authentication, at: now)
                == .keyUsageMismatch(purpose: .authentication, keyUsage: ["nonRepudiation"]))
        let encipherment = try makePKI(keyUsage: KeyUsage(keyEncipherment: true))
        #expect(
            await validator(encipherment, revocation: .none).validate(encipherment.leaf, for: .signing, at: now)
                == .keyUsageMismatch(purpose: .signing, keyUsage: ["keyEncipherment"]))
        #expect(
            await validator(encipherment, revocation: .none).validate(encipherment.leaf, for: .any, at: now).isValid)
        // No extension: any use (RFC 5280).
        let none = try makePKI(keyUsage: nil)
        #expect(await validator(none, revocation: .none).validate(none.leaf, for: .authentication, at: now).isValid)
    }

    @Test func revokedLeafAndRevokedIntermediate() async throws {
        let pki = try makePKI()
        let revokedAt = now - 2 * day
        let leafCRL = try crl(by: pki.issuing, revoking: [(pki.leaf, revokedAt, .affiliationChanged)])
        let result = await validator(pki, crls: [try crl(by: pki.root), leafCRL]).validate(
            pki.leaf, for: .signing, at: now)
        #expect(
            result
                == .revoked(
                    reason: .affiliationChanged, date: revokedAt, subject: DirectoryString.display(pki.leaf.subject)))
        #expect(result.description.contains("失効") && result.description.contains("affiliationChanged"))
        // Before the revocation date the certificate still counts as good.
        #expect(
            await validator(pki, crls: [try crl(by: pki.root, thisUpdate: now - 10 * day), leafCRL]).validate(
                pki.leaf, for: .signing, at: now - 3 * day
            ).isValid)

        let rootCRL = try crl(by: pki.root, revoking: [(pki.issuing.certificate, now - day, .caCompromise)])
        let intermediateResult = await validator(pki, crls: [rootCRL, try crl(by: pki.issuing)]).validate(
            pki.leaf, for: .signing, at: now)
        guard case .revoked(.caCompromise?, _, let subject) = intermediateResult else {
            Issue.record("expected revoked intermediate, got \(intermediateResult)")
            return
        }
        #expect(subject == DirectoryString.display(pki.issuing.certificate.subject))
    }

    @Test func staleCRL() async throws {
        let pki = try makePKI()
        let stale = try crl(by: pki.issuing, thisUpdate: now - 10 * day, nextUpdate: now - day)
        let result = await validator(pki, crls: [try crl(by: pki.root), stale]).validate(
            pki.leaf, for: .signing, at: now)
        #expect(
            result == .crlStale(nextUpdate: now - day, issuer: DirectoryString.display(pki.issuing.certificate.subject))
        )
        #expect(result.description.contains("Download the current revocation list"))
        // A fresh list next to the stale one wins.
        let fresh = try crl(by: pki.issuing)
        #expect(
            await validator(pki, crls: [try crl(by: pki.root), stale, fresh]).validate(pki.leaf, for: .signing, at: now)
                .isValid)
    }

    @Test func crlSignedByAnotherKey() async throws {
        let pki = try makePKI()
        let impostor = try TestCertificates.makeRoot(name: "Impostor")
        // Names the issuing CA but is signed by another key.
        let forged = try crl(by: pki.issuing, signer: impostor)
        let result = await validator(pki, crls: [try crl(by: pki.root), forged]).validate(
            pki.leaf, for: .signing, at: now)
        #expect(result == .crlSignatureInvalid(issuer: DirectoryString.display(pki.issuing.certificate.subject)))
        // A forged list that revokes nothing still fails: it cannot vouch for anything.
        #expect(!result.isValid)
    }

    @Test func missingCRLOnlyMattersWhenRequired() async throws {
        let pki = try makePKI()
        let required = await validator(pki, crls: [try crl(by: pki.issuing)], revocation: .required).validate(
            pki.leaf, for: .signing, at: now)
        #expect(required == .crlUnavailable(issuer: DirectoryString.display(pki.root.certificate.subject)))
        #expect(
            await validator(pki, crls: [try crl(by: pki.issuing)], revocation: .whenAvailable).validate(
                pki.leaf, for: .signing, at: now
            ).isValid)
        // .whenAvailable still catches a revoked leaf when the list is there.
        let leafCRL = try crl(by: pki.issuing, revoking: [(pki.leaf, now - day, nil)])
        guard
            case .revoked(nil, _, _) = await validator(pki, crls: [leafCRL], revocation: .whenAvailable).validate(
                pki.leaf, for: .signing, at: now)
        else {
            Issue.record("revocation was missed")
            return
        }
    }

    @Test func deltaCRLIsNotUsedToDecideRevocation() async throws {
        let pki = try makePKI()
        var builder = CRLBuilder(
            issuer: pki.issuing.certificate.subject, thisUpdate: now - day, nextUpdate: now + day)
        // deltaCRLIndicator (2.5.29.27), critical, base CRL number 1.
        builder.extensions = [Certificate.Extension(oid: [2, 5, 29, 27], critical: true, value: [0x02, 0x01, 0x01])]
        let delta = try CertificateRevocationList(
            derEncoded: try builder.sign(with: pki.issuing.key, algorithm: pki.issuing.algorithm))
        #expect(delta.unsupportedCriticalExtensions == ["2.5.29.27"])
        let result = await validator(pki, crls: [try crl(by: pki.root), delta]).validate(
            pki.leaf, for: .signing, at: now)
        #expect(
            result
                == .crlUnsupported(
                    issuer: DirectoryString.display(pki.issuing.certificate.subject), extensions: ["2.5.29.27"]))
        // With the base list beside it, the base list decides.
        #expect(
            await validator(pki, crls: [try crl(by: pki.root), delta, try crl(by: pki.issuing)]).validate(
                pki.leaf, for: .signing, at: now
            ).isValid)
        // A non-critical extension (here an authority key identifier marked non-critical) is fine.
        var plain = CRLBuilder(issuer: pki.issuing.certificate.subject, thisUpdate: now - day, nextUpdate: now + day)
        plain.extensions = [Certificate.Extension(oid: [2, 5, 29, 35], critical: false, value: [0x30, 0x00])]
        let plainCRL = try CertificateRevocationList(
            derEncoded: try plain.sign(with: pki.issuing.key, algorithm: pki.issuing.algorithm))
        #expect(plainCRL.unsupportedCriticalExtensions.isEmpty)
    }

    @Test func unhandledCriticalExtensionIsNotTrusted() async throws {
        let root = try TestCertificates.makeRoot()
        let odd = Certificate.Extension(
            oid: [1, 2, 392, 200149, 8, 5, 1, 1, 20], critical: true, value: [0x30, 0x00])
        let leaf = try TestCertificates.makeLeaf(under: root, extraExtensions: [odd])
        let result = await CertificateValidator(trustAnchors: [root.certificate], revocation: .none).validate(
            leaf, for: .signing, at: now)
        guard case .untrustedChain(let reason) = result else {
            Issue.record("expected untrustedChain, got \(result)")
            return
        }
        #expect(reason.contains("1.2.392.200149.8.5.1.1.20"))
    }

    /// J-LIS's signing-certificate policies, critical as in the J-LIS profile: policy 1.2.392.200149.8.5.1.1.20
    /// with the CPS qualifier `http://www.jpki.go.jp/cps.html`.
    static let jlisPolicies: [UInt8] = [
        0x30, 0x3D, 0x30, 0x3B, 0x06, 0x0B, 0x2A, 0x83, 0x08, 0x8C, 0x9B, 0x55, 0x08, 0x05, 0x01, 0x01, 0x14, 0x30,
        0x2C, 0x30, 0x2A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x01, 0x16, 0x1E, 0x68, 0x74, 0x74,
        0x70, 0x3A, 0x2F, 0x2F, 0x77, 0x77, 0x77, 0x2E, 0x6A, 0x70, 0x6B, 0x69, 0x2E, 0x67, 0x6F, 0x2E, 0x6A, 0x70,
        0x2F, 0x63, 0x70, 0x73, 0x2E, 0x68, 0x74, 0x6D, 0x6C,
    ]

    @Test func criticalCertificatePoliciesAreProcessed() async throws {
        // A real My Number card's certificate marks certificatePolicies critical; it must validate.
        let pki = try makePKI()
        let policies = Certificate.Extension(oid: [2, 5, 29, 32], critical: true, value: Self.jlisPolicies[...])
        let leaf = try TestCertificates.makeLeaf(under: pki.issuing, extraExtensions: [policies])
        let validator = CertificateValidator(
            trustAnchors: [pki.root.certificate], intermediates: [pki.issuing.certificate], revocation: .none)
        #expect(await validator.validate(leaf, for: .signing, at: now).isValid)

        // Malformed policies are refused, whatever else is right.
        for bad: [UInt8] in [[0x30, 0x00], [0x04, 0x00], [0x30, 0x03, 0x30, 0x01, 0x05], [0x30, 0x02, 0x30, 0x00]] {
            let broken = Certificate.Extension(oid: [2, 5, 29, 32], critical: true, value: bad[...])
            let odd = try TestCertificates.makeLeaf(under: pki.issuing, extraExtensions: [broken])
            let result = await validator.validate(odd, for: .signing, at: now)
            guard case .untrustedChain(let reason) = result else {
                Issue.record("expected untrustedChain for \(bad), got \(result)")
                continue
            }
            #expect(reason.contains("certificate policies"), "\(reason)")
        }
        #expect(CertificatePoliciesPolicy.problem(in: Self.jlisPolicies) == nil)
    }

    @Test func realJLISRootsValidateThemselves() async throws {
        // Each J-LIS root is self-signed: as a trust anchor it validates itself while it is in date.
        let root2023 = try #require(JPKITrustAnchors.signing.last)
        let validator = CertificateValidator(trustAnchors: JPKITrustAnchors.all, revocation: .none)
        #expect(await validator.validate(root2023, for: .any, at: now).isValid)
        let root2015 = try #require(JPKITrustAnchors.signing.first)
        guard case .expired = await validator.validate(root2015, for: .any, at: now) else {
            Issue.record("the 2015 root should be expired in 2026")
            return
        }
    }
}
