import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import ISO7816
import JPKI
import Registration
import Synchronization
import Testing
import X509

/// The JPKI linkage of the tests, backed by the simulator's CA: the revocation reason comes from the CA's index,
/// the successor and the pairs of authentication and signing certificates from what the test recorded.
final class SimulatedJPKILinkage: JPKILinkageService {
    struct State {
        var successors: [String: Certificate] = [:]
        var pairs: [String: (Certificate.SerialNumber, DistinguishedName)] = [:]
        var unavailable = false
        var asked = 0
    }

    let authority: TestCertificateAuthority
    private let state = Mutex(State())

    init(authority: TestCertificateAuthority) { self.authority = authority }

    static func hex(_ serial: Certificate.SerialNumber) -> String {
        serial.bytes.map { String(format: "%02X", $0) }.joined()
    }

    /// Records which signing certificate shares `card` with its authentication certificate.
    func record(_ card: JPKICard) throws {
        let signing = try Certificate(derEncoded: card.snapshot.signingCertificate)
        let authentication = try Certificate(derEncoded: card.snapshot.authenticationCertificate)
        state.withLock {
            $0.pairs[Self.hex(authentication.serialNumber)] = (signing.serialNumber, signing.issuer)
        }
    }

    /// JPKI renews `old` as `new`: the old signing certificate revoked for `reason`, the new one linked.
    func renew(_ old: JPKICard, to new: JPKICard, reason: RevocationReason, at date: Date) throws {
        let oldSigning = try Certificate(derEncoded: old.snapshot.signingCertificate)
        let newSigning = try Certificate(derEncoded: new.snapshot.signingCertificate)
        try authority.revoke(oldSigning.serialNumber, reason: reason, at: date)
        state.withLock { $0.successors[Self.hex(oldSigning.serialNumber)] = newSigning }
        try record(new)
    }

    func makeUnavailable() { state.withLock { $0.unavailable = true } }
    var questions: Int { state.withLock { $0.asked } }

    func successor(ofSigningCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)
        async throws -> JPKILinkage?
    {
        let (unavailable, successor) = state.withLock {
            $0.asked += 1
            return ($0.unavailable, $0.successors[Self.hex(serialNumber)])
        }
        if unavailable { throw BenchFailure(what: "the JPKI service did not answer") }
        let entry = try authority.issuedCertificates().first { $0.serialNumber == Self.hex(serialNumber) }
        guard let revocation = entry?.revocation, let successor else { return nil }
        switch revocation.reason {
        case .superseded: return JPKILinkage(cause: .superseded, newCertificate: successor)
        case .affiliationChanged: return JPKILinkage(cause: .affiliationChanged, newCertificate: successor)
        default: return nil
        }
    }

    func signingCertificate(
        pairedWithAuthenticationCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName
    ) async throws -> (serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)? {
        let (unavailable, pair) = state.withLock { ($0.unavailable, $0.pairs[Self.hex(serialNumber)]) }
        if unavailable { throw BenchFailure(what: "the JPKI service did not answer") }
        return pair.map { (serialNumber: $0.0, issuer: $0.1) }
    }
}

/// A portal whose representative's IC card and file certificate expired five days ago, and an agent registered
/// with a My Number card whose power of attorney expired ten days ago.
struct UpdateBench {
    static let oldPIN = "OLD-PIN-1234"
    static let newPIN = "NEW-PIN-5678"
    static let password = "file-password-1"
    static let signingPIN = "SIGN1234"
    static let authenticationPIN = "1234"
    static let day: TimeInterval = 86_400

    let directory: URL
    let authority: TestCertificateAuthority
    let store: any RegistrationStore
    let clock: TestClock
    let service: RegistrationService
    let businessID: BusinessID
    let representativeID: UserID
    let agentID: UserID
    let oldCard: PrivateCAICCard
    let oldFile: [UInt8]
    let agentCard: JPKICard
    let linkage: SimulatedJPKILinkage

    /// A bench over `store`, or over a SQLite file in its directory (`sqlite`, see ``databasePath``), else in
    /// memory.
    init(store given: (any RegistrationStore)? = nil, sqlite: Bool = false) async throws {
        let now = Date()
        let start = now.addingTimeInterval(-30 * Self.day)
        directory = FileManager.default.temporaryDirectory.appending(path: "update-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(
            directory: directory,
            rootValidity: CertificateValidity(
                notValidBefore: now.addingTimeInterval(-1000 * Self.day),
                notValidAfter: now.addingTimeInterval(3650 * Self.day)))
        linkage = SimulatedJPKILinkage(authority: authority)
        if let given {
            store = given
        } else if sqlite {
            store = try SQLiteRegistrationStore(path: directory.appending(path: "portal.sqlite").path)
        } else {
            store = InMemoryRegistrationStore()
        }
        let clock = TestClock(start)
        self.clock = clock
        service = RegistrationService(
            store: store,
            portal: PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp")),
            now: { clock.now })
        let expired = CertificateValidity(
            notValidBefore: now.addingTimeInterval(-400 * Self.day),
            notValidAfter: now.addingTimeInterval(-5 * Self.day))
        oldCard = try PrivateCAICCard.issue(
            by: authority, holder: RenewalBench.holder, pin: Self.oldPIN, validity: expired)
        oldFile = try Self.file(authority: authority, holder: RenewalBench.holder, validity: expired)
        agentCard = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: Self.signingPIN, authenticationPIN: Self.authenticationPIN,
            validity: .valid(days: 5 * 365, from: start))
        try linkage.record(agentCard)

        let business = try BusinessInformation(
            name: RenewalBench.companyName, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1",
            representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: "4011001098993",
            phone: "03-1234-5678")
        let representative = try UserInformation(
            title: "代表取締役", name: "入札 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1",
            phone: "03-1234-5678", fax: "03-1234-5679", mail: "taro@example.co.jp")
        let portal = RegistrationActor.portal(operator: "test")
        var registration = try await service.commit(
            try await service.prepareRegistration(
                of: business, representative: representative, certificate: try RenewalBench.certificate(of: oldCard),
                kind: .icCard, by: portal)
        ).registration
        businessID = registration.id
        representativeID = try requireValue(registration.representative?.id)
        let fileCertificate = try FileCredential(pkcs12: oldFile, password: try Self.secret(Self.password)).certificate
        _ = try await service.commit(
            try await service.prepare(
                .addCertificate(representativeID, fileCertificate, .fileCertificate), to: businessID, by: portal))
        let agent = try UserInformation(
            title: "営業部長", name: "試験 花子", postalCode: "1000013", address: "東京都千代田区霞が関2-1-2",
            phone: "03-1234-5670", fax: "", mail: "hanako@example.co.jp")
        let attorney = try PowerOfAttorney(
            agentID: representativeID, principal: "\(RenewalBench.companyName) 代表取締役 入札 太郎", agent: "試験 花子",
            authority: ["入札及び見積に関する件", "契約締結に関する件"], validFrom: start.addingTimeInterval(-300 * Self.day),
            validUntil: start.addingTimeInterval(20 * Self.day), provider: "テスト委任状サービス", reference: "POA-OLD-1")
        registration = try await service.commit(
            try await service.prepare(
                .addAgent(
                    agent, try Certificate(derEncoded: agentCard.snapshot.signingCertificate), .myNumberCard,
                    powerOfAttorney: attorney),
                to: businessID, by: portal)
        ).registration
        agentID = try requireValue(registration.users.first { $0.role == .agent }?.id)
        clock.advance(by: 30 * Self.day)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// The SQLite file of a bench made with `sqlite: true`.
    var databasePath: String { directory.appending(path: "portal.sqlite").path }

    static func secret(_ text: String, policy: PINPolicy = .password()) throws -> SecretPIN {
        try SecretPIN(text, policy: policy)
    }
    static func pin(_ text: String) throws -> SecretPIN { try SecretPIN(text, policy: RenewalBench.policy) }
    static func signing(_ text: String) throws -> SecretPIN { try SecretPIN(text, policy: .jpkiSigning) }

    /// A PKCS#12 file of a fresh key and an e-bidding certificate.
    static func file(
        authority: TestCertificateAuthority, holder: EBiddingHolder, validity: CertificateValidity,
        password: String = Self.password
    ) throws -> [UInt8] {
        let key = try CardRSAKey.generate()
        let certificate = try authority.issueEBiddingCertificate(for: holder, publicKey: key, validity: validity)
        let credential = try FileCredential(
            privateKeyPEM: key.pemRepresentation, certificate: certificate,
            chain: [authority.rootCertificate(.eBidding)])
        return try credential.pkcs12(password: try secret(password))
    }

    func newCard(holder: EBiddingHolder = RenewalBench.holder, validity: CertificateValidity? = nil) throws
        -> PrivateCAICCard
    {
        try PrivateCAICCard.issue(
            by: authority, holder: holder, pin: Self.newPIN, validity: validity ?? .valid(days: 395, from: clock.now))
    }

    func newFile(holder: EBiddingHolder = RenewalBench.holder, validity: CertificateValidity? = nil) throws -> [UInt8] {
        try Self.file(authority: authority, holder: holder, validity: validity ?? .valid(days: 395, from: clock.now))
    }

    /// A new My Number card of the agent's holder (or `holder`), which JPKI issued in place of the agent's card.
    func renewedMyNumberCard(holder: JPKIHolder = .example, reason: RevocationReason = .superseded) throws -> JPKICard {
        let card = try JPKICard.issue(
            by: authority, holder: holder, signingPIN: "NEWSIGN99", authenticationPIN: "5678",
            validity: .valid(days: 5 * 365, from: clock.now))
        try linkage.renew(agentCard, to: card, reason: reason, at: clock.now.addingTimeInterval(-3600))
        return card
    }

    func crls() throws -> [CertificateRevocationList] {
        try TestCertificateAuthority.Hierarchy.allCases.compactMap { hierarchy in
            guard hierarchy == .eBidding || hierarchy == .jpkiSigning || hierarchy == .jpkiAuthentication else {
                return nil
            }
            return try CertificateRevocationList(
                bytes: authority.publishCRL(for: hierarchy, thisUpdate: clock.now.addingTimeInterval(-60)))
        }
    }

    func environment(timeout: Duration = .seconds(3)) throws -> LifecycleEnvironment {
        LifecycleEnvironment(
            service: service,
            validator: CertificateValidator(
                trustAnchors: [
                    authority.rootCertificate(.eBidding), authority.rootCertificate(.jpkiSigning),
                    authority.rootCertificate(.jpkiAuthentication),
                ],
                crls: try crls(), revocation: .whenAvailable),
            cardWaitTimeout: timeout)
    }

    func update(slot: (any CardSlot)?, linkage: (any JPKILinkageService)? = nil) throws -> CertificateUpdate {
        CertificateUpdate(slot: slot, environment: try environment(), linkage: linkage ?? self.linkage)
    }

    func stored() async throws -> BusinessRegistration {
        try requireValue(try await store.registration(businessID))
    }
}

/// The outcome of a throwing flow call as a value, for `#expect` on the error.
func outcome(_ body: () async throws -> Void) async -> LifecycleError? {
    do {
        try await body()
        return nil
    } catch let error as LifecycleError {
        return error
    } catch {
        Issue.record("not a LifecycleError: \(error)")
        return nil
    }
}

@Suite("Certificate update without login (電子証明書更新)")
struct CertificateUpdateTests {
    @Test("An expired IC card is updated to a new card swapped in the same reader; the old card is superseded")
    func icCardSwap() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        let update = try bench.update(slot: slot)
        try await update.choose(.privateCertificate)
        slot.insert(bench.oldCard)
        try await update.readCurrentICCard(pin: try UpdateBench.pin(UpdateBench.oldPIN))
        #expect(await update.step == .readNew)
        let new = try bench.newCard()
        slot.swap(to: new)
        try await update.readNewICCard(pin: try UpdateBench.pin(UpdateBench.newPIN))
        guard case .confirm(let confirmation) = await update.step else {
            Issue.record("not at the confirmation: \(await update.step)")
            return
        }
        let newCertificate = try RenewalBench.certificate(of: new)
        #expect(confirmation.current.heading == "更新元電子証明書情報")
        #expect(confirmation.new.heading == "更新先電子証明書情報")
        #expect(confirmation.new.value(of: "証明書シリアル番号") == CertificateSummary(newCertificate).serialNumber)
        #expect(confirmation.new.value(of: "商号又は名称") == RenewalBench.companyName)
        #expect(confirmation.business.first { $0.label == "商号又は名称" }?.value == RenewalBench.companyName)
        #expect(confirmation.userID == bench.representativeID)
        #expect(try await bench.stored().version == 3, "nothing is stored before 更新実行")

        let done = try await update.update()
        let after = try await bench.stored()
        let old = try after.binding(done.supersededBindingID)
        #expect(old.recordedStatus == .superseded)
        #expect(old.supersededBy == done.newBindingID)
        let newBinding = try after.binding(done.newBindingID)
        #expect(newBinding.kind == .icCard)
        #expect(newBinding.fingerprint == (try CertificateBinding.fingerprint(of: newCertificate)))
        #expect(newBinding.status(at: bench.clock.now) == .active)
        #expect(done.outbox.count == 2, "the GEPS hand-over and the completion mail: \(done.outbox)")
        if case .completed = await update.step {} else { Issue.record("not completed: \(await update.step)") }
    }

    @Test("An expired file certificate is updated to a new file; the change is made by the portal")
    func fileToFile() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let update = try bench.update(slot: nil)
        try await update.choose(.privateCertificate)
        try await update.readCurrentFile(bench.oldFile, password: try UpdateBench.secret(UpdateBench.password))
        let newFile = try bench.newFile()
        try await update.readNewFile(newFile, password: try UpdateBench.secret(UpdateBench.password))
        let done = try await update.update()
        let newBinding = try done.registration.binding(done.newBindingID)
        #expect(newBinding.kind == .fileCertificate)
        #expect(try done.registration.binding(done.supersededBindingID).recordedStatus == .superseded)
        #expect(done.confirmation.current.kind == .fileCertificate)
    }

    @Test("The registered certificate: wrong password, not registered, superseded, and the wrong type")
    func currentRefusals() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let update = try bench.update(slot: nil)
        try await update.choose(.privateCertificate)
        #expect(
            await outcome { try await update.readCurrentFile(bench.oldFile, password: try UpdateBench.secret("wrong")) }
                == .wrongFilePassword(.current))
        #expect(
            await outcome {
                try await update.readCurrentFile(
                    Array(bench.oldFile.prefix(100)), password: try UpdateBench.secret(UpdateBench.password))
            }.map { (error: LifecycleError) -> Bool in
                error.code == .fileUnreadable && error.cardRole == .current
            } == true)
        let stranger = try bench.newFile()
        #expect(
            await outcome {
                try await update.readCurrentFile(stranger, password: try UpdateBench.secret(UpdateBench.password))
            } == .certificateNotRegistered)
        #expect(await update.step == .readCurrent(.privateCertificate))
        #expect(
            await outcome {
                try await update.readMyNumberCard(signingPIN: try UpdateBench.signing("SIGN1234"), consent: true)
            }
                == .notAtStep(expected: "readCurrent(myNumberCard)", current: "readCurrent(privateCertificate)"))

        // Update the file once; its old binding is then superseded and cannot be updated again.
        try await update.readCurrentFile(bench.oldFile, password: try UpdateBench.secret(UpdateBench.password))
        try await update.readNewFile(try bench.newFile(), password: try UpdateBench.secret(UpdateBench.password))
        try await update.update()
        let again = try bench.update(slot: nil)
        try await again.choose(.privateCertificate)
        #expect(
            await outcome {
                try await again.readCurrentFile(bench.oldFile, password: try UpdateBench.secret(UpdateBench.password))
            } == .registeredCertificateNotActive(.superseded))
    }

    @Test("A private certificate its CA revoked cannot prove who the user is")
    func revokedCurrent() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let certificate = try RenewalBench.certificate(of: bench.oldCard)
        let revokedAt = bench.clock.now.addingTimeInterval(-20 * UpdateBench.day)
        try bench.authority.revoke(certificate.serialNumber, reason: .keyCompromise, at: revokedAt)
        let slot = SimulatedSlot(name: "Reader")
        slot.insert(bench.oldCard)
        let update = try bench.update(slot: slot)
        try await update.choose(.privateCertificate)
        let error = await outcome { try await update.readCurrentICCard(pin: try UpdateBench.pin(UpdateBench.oldPIN)) }
        guard error?.code == .registeredCertificateRevoked else {
            Issue.record("expected registeredCertificateRevoked, got \(String(describing: error))")
            return
        }
        #expect(bench.oldCard.triesLeft == 10, "no PIN try spent")
    }

    @Test("The old card's PIN: wrong, then the last try refused; the step stays")
    func oldCardPIN() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        slot.insert(bench.oldCard)
        let update = try bench.update(slot: slot)
        try await update.choose(.privateCertificate)
        let wrong = await outcome { try await update.readCurrentICCard(pin: try UpdateBench.pin("WRONG-PIN")) }
        #expect(wrong == .wrongPIN(.current, triesLeft: 9))
        #expect(await update.step == .readCurrent(.privateCertificate))
        try await update.readCurrentICCard(pin: try UpdateBench.pin(UpdateBench.oldPIN))
        #expect(await update.step == .readNew)
    }

    @Test("The new certificate: the same card, another company, another holder, expired, and already registered")
    func newRefusals() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let update = try bench.update(slot: nil)
        try await update.choose(.privateCertificate)
        try await update.readCurrentFile(bench.oldFile, password: try UpdateBench.secret(UpdateBench.password))
        let password = try UpdateBench.secret(UpdateBench.password)
        #expect(await outcome { try await update.readNewFile(bench.oldFile, password: password) } == .sameCard)
        var other = RenewalBench.holder
        other.companyName = "株式会社別会社"
        #expect(
            await outcome { try await update.readNewFile(try bench.newFile(holder: other), password: password) }
                == .companyNameMismatch(registered: RenewalBench.companyName, card: "株式会社別会社"))
        var person = RenewalBench.holder
        person.name = "別人\u{3000}次郎"
        #expect(
            await outcome { try await update.readNewFile(try bench.newFile(holder: person), password: password) }
                == .holderMismatch(field: "氏名", current: RenewalBench.holder.name, new: "別人\u{3000}次郎"))
        let expired = try bench.newFile(validity: .expired(daysAgo: 2, from: bench.clock.now))
        let expiredError = await outcome { try await update.readNewFile(expired, password: password) }
        guard expiredError?.code == .newCardExpired else {
            Issue.record("expected newCardExpired, got \(String(describing: expiredError))")
            return
        }
        // The IC card of the registration is registered already (to the same user).
        let slot = SimulatedSlot(name: "Reader")
        let update2 = try bench.update(slot: slot)
        try await update2.choose(.privateCertificate)
        try await update2.readCurrentFile(bench.oldFile, password: password)
        slot.insert(bench.oldCard)
        #expect(
            await outcome { try await update2.readNewICCard(pin: try UpdateBench.pin(UpdateBench.oldPIN)) }
                == .newCardAlreadyRegistered)
        #expect(await update2.step == .readNew)
        #expect(try await bench.stored().version == 3)
    }

    @Test("戻る at each step and a card pulled before reading leave the registration unchanged")
    func backAndPulled() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        let update = CertificateUpdate(slot: slot, environment: try bench.environment(timeout: .milliseconds(200)))
        try await update.back()
        #expect(await update.step == .chooseType)
        try await update.choose(.privateCertificate)
        #expect(
            await outcome { try await update.readCurrentICCard(pin: try UpdateBench.pin(UpdateBench.oldPIN)) }
                == .noCardInserted(reader: "Reader"))
        try await update.back()
        #expect(await update.step == .chooseType)
        try await update.choose(.privateCertificate)
        slot.insert(bench.oldCard)
        try await update.readCurrentICCard(pin: try UpdateBench.pin(UpdateBench.oldPIN))
        // The old card stays in: the wait for the swap ends with the card not removed.
        #expect(
            await outcome { try await update.readNewICCard(pin: try UpdateBench.pin(UpdateBench.newPIN)) }
                == .cardNotRemoved(reader: "Reader"))
        slot.remove()
        #expect(
            await outcome { try await update.readNewICCard(pin: try UpdateBench.pin(UpdateBench.newPIN)) }
                == .noCardInserted(reader: "Reader"))
        #expect(await update.step == .readNew)
        slot.insert(try bench.newCard())
        try await update.readNewICCard(pin: try UpdateBench.pin(UpdateBench.newPIN))
        try await update.back()
        #expect(await update.step == .chooseType)
        #expect(await outcome { try await update.update() } == .notAtStep(expected: "confirm", current: "chooseType"))
        #expect(try await bench.stored().version == 3)
    }

    @Test("A card pulled mid-command at each card step: a clear error, the step kept, nothing stored; then it resumes")
    func cardPulledMidCommand() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let faults = FaultInjector()
        let slot = SimulatedSlot(name: "Reader", faults: faults)
        let update = CertificateUpdate(
            slot: slot, environment: try bench.environment(timeout: .milliseconds(200)), linkage: bench.linkage)
        let oldPIN = { try UpdateBench.pin(UpdateBench.oldPIN) }
        let newPIN = { try UpdateBench.pin(UpdateBench.newPIN) }
        try await update.choose(.privateCertificate)

        // The registered card, pulled while its certificate is read, then during VERIFY.
        slot.insert(bench.oldCard)
        faults.arm(.pullCard, matching: { $0.ins == 0xB0 })
        #expect(await outcome { try await update.readCurrentICCard(pin: try oldPIN()) } == .cardRemoved(.current))
        #expect(await update.step == .readCurrent(.privateCertificate))
        slot.insert(bench.oldCard)
        faults.arm(.pullCard, matching: { $0.ins == 0x20 && !$0.data.isEmpty })
        #expect(await outcome { try await update.readCurrentICCard(pin: try oldPIN()) } == .cardRemoved(.current))
        #expect(await update.step == .readCurrent(.privateCertificate))
        slot.insert(bench.oldCard)
        try await update.readCurrentICCard(pin: try oldPIN())
        #expect(await update.step == .readNew)

        // The new card, pulled during its possession check (the signature).
        let new = try bench.newCard()
        slot.swap(to: new)
        faults.arm(.pullCard, matching: { $0.ins == 0x2A })
        #expect(await outcome { try await update.readNewICCard(pin: try newPIN()) } == .cardRemoved(.new))
        #expect(await update.step == .readNew)
        slot.insert(new)
        try await update.readNewICCard(pin: try newPIN())
        guard case .confirm = await update.step else {
            Issue.record("not at the confirmation: \(await update.step)")
            return
        }
        #expect(try await bench.stored().version == 3, "nothing is stored before 更新実行")

        // The My Number card, pulled during its signature.
        _ = try bench.renewedMyNumberCard()
        let myNumber = CertificateUpdate(
            slot: slot, environment: try bench.environment(timeout: .milliseconds(200)), linkage: bench.linkage)
        try await myNumber.choose(.myNumberCard)
        slot.swap(to: bench.agentCard)
        faults.arm(.pullCard, matching: { $0.ins == 0x2A })
        let signing = { try UpdateBench.signing(UpdateBench.signingPIN) }
        let pulled = await outcome { try await myNumber.readMyNumberCard(signingPIN: try signing(), consent: true) }
        #expect(pulled == .myNumberCard(.cardRemoved))
        #expect(await myNumber.step == .readCurrent(.myNumberCard))
        slot.insert(bench.agentCard)
        try await myNumber.readMyNumberCard(signingPIN: try signing(), consent: true)
        guard case .confirm = await myNumber.step else {
            Issue.record("not at the confirmation: \(await myNumber.step)")
            return
        }
        #expect(try await bench.stored().version == 3)
    }

    @Test("A stale confirmation: another change won, nothing is stored and the flow starts over")
    func stale() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let password = try UpdateBench.secret(UpdateBench.password)
        let first = try bench.update(slot: nil)
        let second = try bench.update(slot: nil)
        for update in [first, second] {
            try await update.choose(.privateCertificate)
            try await update.readCurrentFile(bench.oldFile, password: password)
            try await update.readNewFile(try bench.newFile(), password: password)
        }
        try await first.update()
        #expect(await outcome { try await second.update() } == .registrationChanged)
        #expect(await second.step == .chooseType)
        #expect(try await bench.stored().version == 4)
    }

    @Test("The My Number card: with consent, JPKI links the renewed signing certificate; no second card is read")
    func myNumberLinked() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let renewed = try bench.renewedMyNumberCard()
        let slot = SimulatedSlot(name: "Reader")
        slot.insert(bench.agentCard)
        let update = try bench.update(slot: slot)
        try await update.choose(.myNumberCard)
        #expect(
            await outcome {
                try await update.readMyNumberCard(
                    signingPIN: try UpdateBench.signing(UpdateBench.signingPIN), consent: false)
            } == .jpkiConsentRequired)
        #expect(bench.linkage.questions == 0, "JPKI is not asked without consent")
        try await update.readMyNumberCard(signingPIN: try UpdateBench.signing(UpdateBench.signingPIN), consent: true)
        guard case .confirm(let confirmation) = await update.step else {
            Issue.record("not at the confirmation: \(await update.step)")
            return
        }
        #expect(confirmation.new.kind == .myNumberCard)
        #expect(confirmation.new.value(of: "商号又は名称") == nil, "a My Number certificate has no company")
        #expect(confirmation.new.value(of: "氏名") == JPKIHolder.example.name)
        let done = try await update.update()
        let newBinding = try done.registration.binding(done.newBindingID)
        let expected = try CertificateBinding.fingerprint(
            of: try Certificate(derEncoded: renewed.snapshot.signingCertificate))
        #expect(newBinding.fingerprint == expected)
        #expect(newBinding.userID == bench.agentID)
    }

    @Test("The My Number card: changed details, no renewal, the linkage down, a wrong signing PIN")
    func myNumberRefusals() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        slot.insert(bench.agentCard)
        let update = try bench.update(slot: slot)
        try await update.choose(.myNumberCard)
        let pin = try UpdateBench.signing(UpdateBench.signingPIN)
        #expect(
            await outcome { try await update.readMyNumberCard(signingPIN: pin, consent: true) }
                == .jpkiCertificateNotRenewed)
        #expect(
            await outcome {
                try await update.readMyNumberCard(signingPIN: try UpdateBench.signing("WRONG99"), consent: true)
            }
                == .myNumberCard(.wrongPIN(.signing, triesLeft: 4)))
        var moved = JPKIHolder.example
        moved.name = "改姓\u{3000}花子"
        _ = try bench.renewedMyNumberCard(holder: moved, reason: .affiliationChanged)
        let changed = try bench.update(slot: slot)
        try await changed.choose(.myNumberCard)
        #expect(
            await outcome { try await changed.readMyNumberCard(signingPIN: pin, consent: true) } == .jpkiDetailsChanged)
        bench.linkage.makeUnavailable()
        let down = await outcome { try await changed.readMyNumberCard(signingPIN: pin, consent: true) }
        guard down?.code == .jpkiLinkageUnavailable else {
            Issue.record("expected jpkiLinkageUnavailable, got \(String(describing: down))")
            return
        }
        slot.remove()
        #expect(
            await outcome { try await changed.readMyNumberCard(signingPIN: pin, consent: true) }
                == .noCardInserted(reader: "Reader"))
        #expect(await changed.step == .readCurrent(.myNumberCard))
        #expect(try await bench.stored().version == 3)
    }

    @Test("No description carries a PIN or password")
    func noSecrets() async throws {
        let errors: [LifecycleError] = [
            .wrongFilePassword(.current), .jpkiConsentRequired, .jpkiDetailsChanged, .jpkiCertificateNotRenewed,
            .myNumberCard(.wrongPIN(.signing, triesLeft: 2)), .deletionNotAcknowledged, .agentCardMismatch,
            .powerOfAttorneyStillValid(validUntil: Date()), .certificateNotRegistered,
        ]
        for error in errors {
            let text = error.description
            #expect(!text.isEmpty)
            let leaks = [UpdateBench.password, UpdateBench.signingPIN, UpdateBench.oldPIN].filter { text.contains($0) }
            #expect(leaks.isEmpty)
        }
    }
}
