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
    /// IC card renewal (ICカード更新) through the real stack: pcscd, vpcd and `PCSCReaderSlot`, both cards served
    /// one after the other on the same vpcd port, so the flow sees the swap in one reader as a person makes it.
    @Suite("IC card renewal through pcscd")
    struct ICCardRenewalEndToEndTests {
        static let slot = 1
        static let companyName = "株式会社試験建設"
        static let currentPIN = "OLD-PIN-1234"
        static let newPIN = "NEW-PIN-5678"

        @Test("current card + PIN, the swap in one reader, new card + PIN, 更新: the old card can no longer log in")
        func renewThroughPCSC() async throws {
            let portal = try await RenewalPortal()
            defer { portal.remove() }
            let (current, holder, store, validator) = (portal.current, portal.holder, portal.store, portal.validator)
            let registered = portal.registered
            let new = try PrivateCAICCard.issue(by: portal.authority, holder: holder, pin: Self.newPIN)

            let reader = try await TestBench.readerName(slot: Self.slot)
            let context = try PCSCContext()
            let slot = context.slot(named: reader)
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: Self.slot))
            let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy
            let renewal = ICCardRenewal(
                user: portal.userID, of: registered.id, slot: slot, environment: portal.environment)

            do {
                // 古いICカードの確認: the flow waits for the card pcscd reports.
                try await server.insert(current)
                try await renewal.readCurrentCard()
                #expect(await renewal.step == .enterCurrentPIN(triesLeft: 10))

                // The card pulled before its PIN is sent: a clear error, the step kept; back in, the PIN goes through.
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                let pulled = await #expect(throws: LifecycleError.self) {
                    try await renewal.verifyCurrentPIN(try SecretPIN(Self.currentPIN, policy: policy))
                }
                #expect(pulled?.losesCardForTest == true, "got \(String(describing: pulled))")
                #expect(await renewal.step == .enterCurrentPIN(triesLeft: 10))
                try await server.insert(current)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                try await renewal.verifyCurrentPIN(try SecretPIN(Self.currentPIN, policy: policy))
                #expect(await renewal.step == .swapCards)

                // 新しいICカードの確認: the person takes the current card out and inserts the new one, same reader.
                let swapping = Task { try await renewal.swapCards() }
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(new)
                try await swapping.value
                #expect(await renewal.step == .enterNewPIN(triesLeft: 10))
                try await renewal.verifyNewPIN(try SecretPIN(Self.newPIN, policy: policy))
                guard case .confirm(let confirmation) = await renewal.step else {
                    Issue.record("not at the confirmation: \(await renewal.step)")
                    return
                }
                #expect(confirmation.new.value(of: "ICカード業者名称") == Self.companyName)
                #expect(confirmation.current.value(of: "ICカード取得者氏名") == holder.name)
                #expect(confirmation.new.value(of: "ICカード取得者所在地") == "岐阜県岐阜市司町４０番地１")
                #expect(confirmation.current.value(of: "証明書シリアル番号") != confirmation.new.value(of: "証明書シリアル番号"))

                let completion = try await renewal.update()
                let stored = try #require(try await store.registration(registered.id))
                #expect(try stored.binding(completion.supersededBindingID).recordedStatus == .superseded)
                #expect(try stored.binding(completion.newBindingID).recordedStatus == .active)

                // Login through pcscd: the new card is accepted, the old one refused.
                let login = CertificateLogin(store: store, validator: validator)
                let newKey = try await Self.key(in: context, reader: reader, pin: Self.newPIN)
                let session = try await login.login(
                    try await login.issueChallenge().sign(for: .inProcess, with: newKey))
                #expect(session.bindingID == completion.newBindingID)
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(current)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let oldKey = try await Self.key(in: context, reader: reader, pin: Self.currentPIN)
                await #expect(throws: RegistrationError.certificateNotActive(.superseded)) {
                    try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: oldKey))
                }
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
            } catch {
                await server.remove()
                try? await TestBench.waitUntil(context: context, reader: reader, present: false)
                throw error
            }
        }

        @Test("a swap faster than the reader reports it is seen; a wrong company name stops there; 戻る stores nothing")
        func quickSwapMismatchAndBack() async throws {
            let portal = try await RenewalPortal()
            defer { portal.remove() }
            var otherCompany = portal.holder
            otherCompany.companyName = "株式会社試験建設工業"
            let wrong = try PrivateCAICCard.issue(by: portal.authority, holder: otherCompany, pin: Self.newPIN)
            let new = try PrivateCAICCard.issue(by: portal.authority, holder: portal.holder, pin: Self.newPIN)
            let reader = try await TestBench.readerName(slot: Self.slot)
            let context = try PCSCContext()
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: Self.slot))
            let renewal = ICCardRenewal(
                user: portal.userID, of: portal.registered.id, slot: context.slot(named: reader),
                environment: portal.environment, wording: .tradeName)
            let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy
            do {
                try await server.insert(portal.current)
                try await renewal.readCurrentCard()
                try await renewal.verifyCurrentPIN(try SecretPIN(Self.currentPIN, policy: policy))

                // The card swapped in one movement (the socket closed and reopened at once).
                try await server.swap(to: wrong)
                let error = await #expect(throws: LifecycleError.self) { try await renewal.swapCards() }
                #expect(
                    error == .companyNameMismatch(registered: portal.holder.companyName, card: "株式会社試験建設工業"),
                    "got \(String(describing: error))")
                #expect(await renewal.step == .swapCards)
                #expect(wrong.triesLeft == 10)

                try await server.swap(to: new)
                try await renewal.swapCards()
                #expect(await renewal.step == .enterNewPIN(triesLeft: 10))
                try await renewal.verifyNewPIN(try SecretPIN(Self.newPIN, policy: policy))
                guard case .confirm(let confirmation) = await renewal.step else {
                    Issue.record("not at the confirmation: \(await renewal.step)")
                    throw CancellationError()
                }
                #expect(confirmation.new.value(of: "ICカード商号又は名称") == portal.holder.companyName)

                try await renewal.back()
                #expect(await renewal.step == .insertCurrentCard)
                #expect(try await portal.store.registration(portal.registered.id) == portal.registered)
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
            } catch {
                await server.remove()
                try? await TestBench.waitUntil(context: context, reader: reader, present: false)
                throw error
            }
        }

        @Test("two renewals of one user at once, in two readers, by two portals on one SQLite file: one wins")
        func concurrentRenewals() async throws {
            let database = FileManager.default.temporaryDirectory.appending(path: "e2e-renewal-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: database, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: database) }
            let path = database.appending(path: "portal.sqlite").path
            let portal = try await RenewalPortal(store: try SQLiteRegistrationStore(path: path))
            defer { portal.remove() }
            // A second portal process: its own connection to the same database file.
            let other = LifecycleEnvironment(
                service: RegistrationService(
                    store: try SQLiteRegistrationStore(path: path), portal: portal.service.portal),
                validator: portal.validator, cardWaitTimeout: .seconds(15))
            let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy
            let context = try PCSCContext()
            // The same current card twice (a copy of its contents), as two sessions at once would present it.
            let twin = try PrivateCAICCard(snapshot: portal.current.snapshot)
            var sides: [(ICCardRenewal, VPCDCardServer, String)] = []
            for (slot, environment) in [(0, portal.environment), (1, other)] {
                let reader = try await TestBench.readerName(slot: slot)
                let renewal = ICCardRenewal(
                    user: portal.userID, of: portal.registered.id, slot: context.slot(named: reader),
                    environment: environment)
                sides.append((renewal, VPCDCardServer(port: VPCDCardServer.port(forSlot: slot)), reader))
            }
            let news = [
                try PrivateCAICCard.issue(by: portal.authority, holder: portal.holder, pin: Self.newPIN),
                try PrivateCAICCard.issue(by: portal.authority, holder: portal.holder, pin: Self.newPIN),
            ]
            do {
                for (index, (renewal, server, reader)) in sides.enumerated() {
                    try await server.insert(index == 0 ? portal.current : twin)
                    try await renewal.readCurrentCard()
                    try await renewal.verifyCurrentPIN(try SecretPIN(Self.currentPIN, policy: policy))
                    let swapping = Task { try await renewal.swapCards() }
                    await server.remove()
                    try await TestBench.waitUntil(context: context, reader: reader, present: false)
                    try await server.insert(news[index])
                    try await swapping.value
                    try await renewal.verifyNewPIN(try SecretPIN(Self.newPIN, policy: policy))
                    guard case .confirm = await renewal.step else {
                        Issue.record("renewal \(index) is not at the confirmation: \(await renewal.step)")
                        throw CancellationError()
                    }
                }

                let (renewalA, renewalB) = (sides[0].0, sides[1].0)
                async let first = Self.outcome(of: renewalA)
                async let second = Self.outcome(of: renewalB)
                let results = await [first, second]
                let winners = results.compactMap { try? $0.get() }
                let failures = results.compactMap { result -> LifecycleError? in
                    if case .failure(let error) = result { return error }
                    return nil
                }
                #expect(winners.count == 1)
                #expect(failures == [.registrationChanged])

                // A third look at the file: one change stored, the winner's card the only active one.
                let stored = try #require(
                    try await SQLiteRegistrationStore(path: path).registration(portal.registered.id))
                #expect(stored.version == portal.registered.version + 1)
                #expect(stored.activeBindings(of: portal.userID, at: Date()).map(\.id) == winners.map(\.newBindingID))
                #expect(stored.bindings.count == portal.registered.bindings.count + 1, "the loser's card is not bound")
                #expect(
                    await [renewalA.step.name.rawValue, renewalB.step.name.rawValue].sorted() == [
                        "completed", "insertCurrentCard",
                    ])
            } catch {
                for (_, server, _) in sides { await server.remove() }
                throw error
            }
            for (_, server, reader) in sides {
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
            }
        }

        /// The renewal's update, or its error.
        static func outcome(of renewal: ICCardRenewal) async -> Result<RenewalCompletion, LifecycleError> {
            do { return .success(try await renewal.update()) } catch { return .failure(error) }
        }

        /// The signing key of the card in `reader`, its PIN verified.
        static func key(in context: PCSCContext, reader: String, pin: String) async throws -> CardKey {
            let connection = try await context.connect(to: reader)
            let card = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
            return try await card.signingKey(
                pin: try SecretPIN(pin, policy: ICCardProfile.procurementIdentitySimulator.pinPolicy))
        }
    }
}

/// A portal for the renewal tests: a test CA, and a business registered with its representative's current card
/// (close to expiry).
private struct RenewalPortal {
    let directory: URL
    let authority: TestCertificateAuthority
    let holder = EBiddingHolder.example
    let current: PrivateCAICCard
    let store: any RegistrationStore
    let service: RegistrationService
    let registered: BusinessRegistration
    let userID: UserID
    let validator: CertificateValidator
    let environment: LifecycleEnvironment

    init(store: any RegistrationStore = InMemoryRegistrationStore()) async throws {
        self.store = store
        directory = FileManager.default.temporaryDirectory.appending(path: "e2e-renewal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(directory: directory)
        current = try PrivateCAICCard.issue(
            by: authority, holder: holder, pin: EndToEnd.ICCardRenewalEndToEndTests.currentPIN,
            validity: .expiring(inDays: 25))
        service = RegistrationService(
            store: store,
            portal: PortalProfile(name: "電子入札システム", mailFrom: try MailAddress("noreply@portal.example.jp")))
        registered = try await service.commit(
            try await service.prepareRegistration(
                of: try BusinessInformation(
                    name: holder.companyName, postalCode: "500-8570", address: "岐阜県岐阜市司町４０番地１",
                    representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: nil,
                    phone: "058-123-4567"),
                representative: try UserInformation(
                    title: "代表取締役", name: "入札 太郎", postalCode: "5008570", address: "岐阜県岐阜市司町４０番地１",
                    phone: "058-123-4567", fax: "058-123-4568", mail: "taro@example.co.jp"),
                certificate: try Certificate(derEncoded: current.snapshot.holderCertificate), kind: .icCard,
                by: .portal(operator: "e2e"))
        ).registration
        guard let representative = registered.representative?.id else {
            throw CancellationError()
        }
        userID = representative
        validator = CertificateValidator(trustAnchors: [authority.rootCertificate(.eBidding)])
        environment = LifecycleEnvironment(service: service, validator: validator, cardWaitTimeout: .seconds(15))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

extension LifecycleError {
    /// Whether the error says the current card left the reader (pcscd reports a pulled card as removed, or as
    /// a reset when it was back before the next command).
    fileprivate var losesCardForTest: Bool {
        guard cardRole == .current else { return false }
        switch code {
        case .cardRemoved: return true
        case .cardUnreadable: return cardError == .cardReset || cardError == .cardRemoved
        default: return false
        }
    }
}
