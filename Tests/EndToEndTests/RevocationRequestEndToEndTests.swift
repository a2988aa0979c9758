import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import ISO7816
import PCSC
import Registration
import Testing
import X509

extension EndToEnd {
    /// The revocation request (インターネット失効申込) through the real stack: pcscd, vpcd and `PCSCReaderSlot`; the
    /// simulator's CA takes the request, and the card can no longer log in through pcscd afterwards.
    @Suite("Revocation request through pcscd")
    struct RevocationRequestEndToEndTests {
        static let slot = 0
        static let pin = "REVOKE-1234"

        @Test(
            "agree, card + PIN, the form signed by the card, 確定 once (answer lost, sent again): CRL and login refuse the card"
        )
        func revokeThroughPCSC() async throws {
            let directory = FileManager.default.temporaryDirectory.appending(path: "e2e-revoke-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let authority = try TestCertificateAuthority(directory: directory)
            let holder = EBiddingHolder.example
            let card = try PrivateCAICCard.issue(
                by: authority, holder: holder, pin: Self.pin, validity: .valid(days: 395))
            let certificate = try Certificate(derEncoded: card.snapshot.holderCertificate)

            let store: any RegistrationStore = InMemoryRegistrationStore()
            let service = RegistrationService(
                store: store,
                portal: PortalProfile(name: "電子入札システム", mailFrom: try MailAddress("noreply@portal.example.jp")))
            _ = try await service.commit(
                try await service.prepareRegistration(
                    of: try BusinessInformation(
                        name: holder.companyName, postalCode: "500-8570", address: "岐阜県岐阜市司町４０番地１",
                        representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: nil,
                        phone: "058-123-4567"),
                    representative: try UserInformation(
                        title: "代表取締役", name: "入札 太郎", postalCode: "5008570", address: "岐阜県岐阜市司町４０番地１",
                        phone: "058-123-4567", fax: "058-123-4568", mail: "taro@example.co.jp"),
                    certificate: certificate, kind: .icCard, by: .portal(operator: "e2e"))
            )
            let root = authority.rootCertificate(.eBidding)
            let environment = LifecycleEnvironment(
                service: service, validator: CertificateValidator(trustAnchors: [root]), cardWaitTimeout: .seconds(15))
            let desk = E2ERevocationDesk(authority: authority)

            let reader = try await TestBench.readerName(slot: Self.slot)
            let context = try PCSCContext()
            let slot = context.slot(named: reader)
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: Self.slot))
            let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy
            let request = RevocationRequest(slot: slot, environment: environment, authority: desk)

            do {
                _ = try await request.openProcedure()
                _ = try await request.openTerms()
                try await request.agree()
                try await server.insert(card)
                try await request.readCard()
                #expect(await request.step == .enterPIN(triesLeft: 10))
                await #expect(throws: LifecycleError.wrongPIN(.current, triesLeft: 9)) {
                    try await request.verifyPIN(try SecretPIN("WRONG-0000", policy: policy))
                }
                try await request.verifyPIN(try SecretPIN(Self.pin, policy: policy))
                guard case .reviewCard(let contents) = await request.step else {
                    Issue.record("not at the card's contents: \(await request.step)")
                    return
                }
                #expect(contents.value(of: "ICカード取得者氏名") == holder.name)
                try await request.continueToForm()

                // The card pulled and put back before the form is signed: its PIN is asked again.
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(card)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let form = RevocationRequestForm(
                    reason: .leftCompany, requesterName: "入札 花子", phone: "058-123-4567", mail: "hanako@example.co.jp")
                await #expect(throws: LifecycleError.self) { try await request.fill(form) }
                #expect(await request.step == .enterPIN(triesLeft: nil))
                try await request.verifyPIN(try SecretPIN(Self.pin, policy: policy))
                try await request.continueToForm()
                try await request.fill(form)
                try await request.setChecked(true)
                guard case .confirm(let confirmation, true) = await request.step else {
                    Issue.record("not at the confirmation: \(await request.step)")
                    return
                }

                // openssl verifies the CMS file signed through pcscd.
                let p7m = directory.appending(path: "request.p7m")
                let rootPEM = directory.appending(path: "root.pem")
                try Data(confirmation.request.cms).write(to: p7m)
                try authority.rootCertificatePEM(.eBidding).write(to: rootPEM, atomically: true, encoding: .utf8)
                let verified = try await Tools.run(
                    executable: URL(fileURLWithPath: "/usr/bin/openssl"),
                    [
                        "cms", "-verify", "-inform", "DER", "-in", p7m.path, "-CAfile", rootPEM.path, "-purpose", "any",
                    ])
                #expect(verified.status == 0, "openssl: \(verified.error)")
                #expect(
                    verified.output == String(decoding: try confirmation.request.content.canonicalJSON(), as: UTF8.self)
                )

                // 確定: the answer is lost once; the same request is sent again and the CA revoked once.
                await desk.loseNextAnswer()
                await #expect(throws: LifecycleError.self) { try await request.submit() }
                let record = try await request.submit()
                #expect(await desk.revocations == 1)
                #expect(record.text.contains("受付番号: \(record.receipt.receiptNumber)"))
                #expect(record.text.contains("失効理由: 退職・異動"))

                // The CA's next CRL lists the card; the portal refuses its login (registration and CRL alike).
                let crl = try CertificateRevocationList(
                    bytes: Array(try Data(contentsOf: directory.appending(path: "eBidding/crl.der"))))
                #expect(crl.entry(for: certificate.serialNumber)?.reason == .affiliationChanged)
                let connection = try await context.connect(to: reader)
                let key = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                    .signingKey(pin: try SecretPIN(Self.pin, policy: policy))
                let login = CertificateLogin(store: store, validator: CertificateValidator(trustAnchors: [root]))
                await #expect(throws: RegistrationError.certificateNotActive(.revoked)) {
                    try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: key))
                }
                let crlOnly = CertificateValidator(trustAnchors: [root], crls: [crl], revocation: .required)
                let result = await crlOnly.validate(certificate, for: .signing)
                #expect(!result.isValid, "the CRL refuses the card: \(result)")
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
            } catch {
                await server.remove()
                try? await TestBench.waitUntil(context: context, reader: reader, present: false)
                throw error
            }
        }
    }
}

/// The simulator CA's revocation desk for the end-to-end test: verifies, revokes, publishes the CRL, and keeps
/// receipts by request ID.
private actor E2ERevocationDesk: RevocationAuthority {
    struct AnswerLost: Error {}
    let authority: TestCertificateAuthority
    private var receipts: [String: RevocationReceipt] = [:]
    private var losing = false
    private(set) var revocations = 0

    init(authority: TestCertificateAuthority) { self.authority = authority }

    func loseNextAnswer() { losing = true }

    func submit(_ request: SignedRevocationRequest) async throws -> RevocationReceipt {
        let received = try SignedRevocationRequest(cms: request.cms)
        let receipt: RevocationReceipt
        if let earlier = receipts[received.requestID] {
            receipt = earlier
        } else {
            let certificate = try await received.verify(trusting: [authority.rootCertificate(.eBidding)], at: Date())
            try authority.revoke(
                certificate.serialNumber,
                reason: RevocationReason(rawValue: received.content.reasonCode) ?? .unspecified)
            _ = try authority.publishCRL(for: .eBidding)
            revocations += 1
            receipt = RevocationReceipt(
                receiptNumber: "E2E-\(revocations)", requestID: received.requestID,
                serialNumber: received.content.serialNumber, acceptedAt: Date())
            receipts[received.requestID] = receipt
        }
        if losing {
            losing = false
            throw AnswerLost()
        }
        return receipt
    }
}
