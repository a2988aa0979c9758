import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import ISO7816
import JPKI
import PCSC
import Registration
import Synchronization
import Testing
import X509

extension EndToEnd {
    /// Certificate update without login (電子証明書更新) through pcscd, vpcd and `PCSCReaderSlot`: an expired IC card
    /// swapped for a new one in the same reader, and a My Number card whose renewed signing certificate JPKI links.
    @Suite("Certificate update through pcscd")
    struct CertificateUpdateEndToEndTests {
        static let slot = 1
        static let oldPIN = "OLD-PIN-1234"
        static let newPIN = "NEW-PIN-5678"
        static let signingPIN = "SIGN1234"

        @Test("an expired IC card + PIN, the swap in one reader, the new card + PIN, 更新実行: the new card logs in")
        func icCardSwap() async throws {
            let portal = try await UpdatePortal()
            defer { portal.remove() }
            let new = try PrivateCAICCard.issue(by: portal.authority, holder: portal.holder, pin: Self.newPIN)
            let reader = try await TestBench.readerName(slot: Self.slot)
            let context = try PCSCContext()
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: Self.slot))
            let update = CertificateUpdate(
                slot: context.slot(named: reader), environment: portal.environment, linkage: portal.linkage)
            let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy
            do {
                try await update.choose(.privateCertificate)
                try await server.insert(portal.oldCard)
                try await update.readCurrentICCard(pin: try SecretPIN(Self.oldPIN, policy: policy))
                #expect(await update.step == .readNew)

                // The person takes the old card out and inserts the new one while the flow waits.
                let reading = Task { try await update.readNewICCard(pin: try SecretPIN(Self.newPIN, policy: policy)) }
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(new)
                try await reading.value
                guard case .confirm(let confirmation) = await update.step else {
                    Issue.record("not at the confirmation: \(await update.step)")
                    throw CancellationError()
                }
                #expect(confirmation.new.value(of: "商号又は名称") == portal.holder.companyName)
                let done = try await update.update()
                #expect(try done.registration.binding(done.supersededBindingID).recordedStatus == .superseded)

                let connection = try await context.connect(to: reader)
                let key = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                    .signingKey(pin: try SecretPIN(Self.newPIN, policy: policy))
                let login = CertificateLogin(store: portal.store, validator: portal.validator)
                let session = try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: key))
                #expect(session.bindingID == done.newBindingID)
                await connection.disconnect()
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
            } catch {
                await server.remove()
                try? await TestBench.waitUntil(context: context, reader: reader, present: false)
                throw error
            }
        }

        @Test("My Number card, with consent: no card is refused; then one card read, JPKI links the new one")
        func myNumberLinked() async throws {
            let portal = try await UpdatePortal()
            defer { portal.remove() }
            let renewed = try JPKICard.issue(
                by: portal.authority, holder: .example, signingPIN: "NEWSIGN99", authenticationPIN: "5678")
            try portal.linkage.renew(portal.myNumberCard, to: renewed, at: Date().addingTimeInterval(-3600))
            let reader = try await TestBench.readerName(slot: Self.slot)
            let context = try PCSCContext()
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: Self.slot))
            var environment = portal.environment
            environment.cardWaitTimeout = .milliseconds(500)
            let update = CertificateUpdate(
                slot: context.slot(named: reader), environment: environment, linkage: portal.linkage)
            let pin = try SecretPIN(Self.signingPIN, policy: .jpkiSigning)
            do {
                try await update.choose(.myNumberCard)
                let none = await #expect(throws: LifecycleError.self) {
                    try await update.readMyNumberCard(signingPIN: pin, consent: true)
                }
                #expect(none == .noCardInserted(reader: reader))
                try await server.insert(portal.myNumberCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                try await update.readMyNumberCard(signingPIN: pin, consent: true)
                let done = try await update.update()
                let expected = try CertificateBinding.fingerprint(
                    of: try Certificate(derEncoded: renewed.snapshot.signingCertificate))
                #expect(try done.registration.binding(done.newBindingID).fingerprint == expected)
                #expect(try done.registration.binding(done.newBindingID).kind == .myNumberCard)
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

/// The tests' JPKI linkage, backed by the simulator's CA: the CA's index says why a certificate was revoked.
private final class E2EJPKILinkage: JPKILinkageService {
    let authority: TestCertificateAuthority
    private let successors = Mutex([String: Certificate]())

    init(authority: TestCertificateAuthority) { self.authority = authority }

    static func hex(_ serial: Certificate.SerialNumber) -> String {
        serial.bytes.map { String(format: "%02X", $0) }.joined()
    }

    func renew(_ old: JPKICard, to new: JPKICard, at date: Date) throws {
        let oldSigning = try Certificate(derEncoded: old.snapshot.signingCertificate)
        let newSigning = try Certificate(derEncoded: new.snapshot.signingCertificate)
        try authority.revoke(oldSigning.serialNumber, reason: .superseded, at: date)
        successors.withLock { $0[Self.hex(oldSigning.serialNumber)] = newSigning }
    }

    func successor(ofSigningCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)
        async throws -> JPKILinkage?
    {
        let serial = Self.hex(serialNumber)
        guard let successor = successors.withLock({ $0[serial] }),
            let revocation = try authority.issuedCertificates().first(where: { $0.serialNumber == serial })?.revocation
        else { return nil }
        switch revocation.reason {
        case .superseded: return JPKILinkage(cause: .superseded, newCertificate: successor)
        case .affiliationChanged: return JPKILinkage(cause: .affiliationChanged, newCertificate: successor)
        default: return nil
        }
    }

    func signingCertificate(
        pairedWithAuthenticationCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName
    ) async throws -> (serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)? { nil }
}

/// A portal whose representative's IC card expired five days ago, with an agent registered with a My Number card.
private struct UpdatePortal {
    static let day: TimeInterval = 86_400

    let directory: URL
    let authority: TestCertificateAuthority
    let holder = EBiddingHolder.example
    let oldCard: PrivateCAICCard
    let myNumberCard: JPKICard
    let store: any RegistrationStore = InMemoryRegistrationStore()
    let validator: CertificateValidator
    let environment: LifecycleEnvironment
    let linkage: E2EJPKILinkage

    init() async throws {
        let now = Date()
        // The registration happened while the old card was valid.
        let registeredAt = now.addingTimeInterval(-30 * Self.day)
        directory = FileManager.default.temporaryDirectory.appending(path: "e2e-update-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authority = try TestCertificateAuthority(
            directory: directory,
            rootValidity: CertificateValidity(
                notValidBefore: now.addingTimeInterval(-1000 * Self.day),
                notValidAfter: now.addingTimeInterval(3650 * Self.day)))
        self.authority = authority
        linkage = E2EJPKILinkage(authority: authority)
        oldCard = try PrivateCAICCard.issue(
            by: authority, holder: holder, pin: EndToEnd.CertificateUpdateEndToEndTests.oldPIN,
            validity: CertificateValidity(
                notValidBefore: now.addingTimeInterval(-400 * Self.day),
                notValidAfter: now.addingTimeInterval(-5 * Self.day)))
        myNumberCard = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: EndToEnd.CertificateUpdateEndToEndTests.signingPIN,
            authenticationPIN: "1234", validity: .valid(days: 5 * 365, from: registeredAt))
        let past = RegistrationService(
            store: store,
            portal: PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp")),
            now: { registeredAt })
        let registration = try await past.commit(
            try await past.prepareRegistration(
                of: try BusinessInformation(
                    name: holder.companyName, postalCode: "500-8570", address: "岐阜県岐阜市司町４０番地１",
                    representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: nil,
                    phone: "058-123-4567"),
                representative: try UserInformation(
                    title: "代表取締役", name: "入札 太郎", postalCode: "5008570", address: "岐阜県岐阜市司町４０番地１",
                    phone: "058-123-4567", fax: "058-123-4568", mail: "taro@example.co.jp"),
                certificate: try Certificate(derEncoded: oldCard.snapshot.holderCertificate), kind: .icCard,
                by: .portal(operator: "e2e"))
        ).registration
        let attorney = try PowerOfAttorney(
            agentID: UserID(rawValue: "new"), principal: holder.companyName, agent: "試験 花子", authority: ["入札"],
            validFrom: registeredAt.addingTimeInterval(-Self.day), validUntil: now.addingTimeInterval(300 * Self.day),
            provider: "テスト委任状サービス", reference: "POA-1")
        _ = try await past.commit(
            try await past.prepare(
                .addAgent(
                    try UserInformation(
                        title: "営業部長", name: "試験 花子", postalCode: "5008570", address: "岐阜県岐阜市司町４０番地１",
                        phone: "058-123-4560", fax: "", mail: "hanako@example.co.jp"),
                    try Certificate(derEncoded: myNumberCard.snapshot.signingCertificate), .myNumberCard,
                    powerOfAttorney: attorney),
                to: registration.id, by: .portal(operator: "e2e")))
        let service = RegistrationService(
            store: store,
            portal: PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp")))
        let crls = try [TestCertificateAuthority.Hierarchy.eBidding, .jpkiSigning].map {
            try CertificateRevocationList(bytes: authority.publishCRL(for: $0, thisUpdate: now.addingTimeInterval(-60)))
        }
        validator = CertificateValidator(
            trustAnchors: [authority.rootCertificate(.eBidding), authority.rootCertificate(.jpkiSigning)], crls: crls,
            revocation: .whenAvailable)
        environment = LifecycleEnvironment(service: service, validator: validator, cardWaitTimeout: .seconds(10))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
