import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import ISO7816
import Registration
import Testing
import X509

@Suite("IC card renewal (ICカード更新), in process")
struct ICCardRenewalTests {
    // MARK: The whole flow

    @Test(
        "the whole renewal: the confirmation lists both cards' fields; after 更新 the old card cannot log in, the new one can"
    )
    func happyPath() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader 0")
        let renewal = bench.renewal(slot: slot)
        #expect(await renewal.step == .insertCurrentCard)

        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()
        #expect(await renewal.step == .enterCurrentPIN(triesLeft: 10))
        try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        #expect(await renewal.step == .swapCards)

        // The person takes the current card out and inserts the new one while the flow waits.
        let new = try bench.newCard()
        let swapping = Task { try await renewal.swapCards() }
        slot.remove()
        slot.insert(new)
        try await swapping.value
        #expect(await renewal.step == .enterNewPIN(triesLeft: 10))
        try await renewal.verifyNewPIN(try RenewalBench.pin(RenewalBench.newPIN))

        guard case .confirm(let confirmation) = await renewal.step else {
            Issue.record("not at the confirmation: \(await renewal.step)")
            return
        }
        let oldCertificate = try RenewalBench.certificate(of: bench.currentCard)
        let newCertificate = try RenewalBench.certificate(of: new)
        #expect(RenewalConfirmation.title == "電子証明書更新確認")
        #expect(confirmation.current.heading == "現在使用しているICカード")
        #expect(confirmation.new.heading == "新規に使用するICカード")
        #expect(
            confirmation.current.rows.map(\.label) == [
                "業者名称", "所在地", "ICカード業者名称", "ICカード取得者氏名", "ICカード取得者所在地", "証明書シリアル番号", "証明書発行者",
                "証明書有効期限",
            ])
        for block in confirmation.blocks {
            #expect(block.value(of: "業者名称") == RenewalBench.companyName)
            #expect(block.value(of: "所在地") == "東京都千代田区霞が関1-1-1")
            #expect(block.value(of: "ICカード業者名称") == RenewalBench.companyName)
            #expect(block.value(of: "ICカード取得者氏名") == "入札\u{3000}太郎")
            #expect(block.value(of: "ICカード取得者所在地") == "東京都千代田区霞が関1-1-1")
            #expect(block.value(of: "証明書発行者") == CertificateSummary(oldCertificate).issuer)
        }
        #expect(confirmation.current.value(of: "証明書シリアル番号") == CertificateSummary(oldCertificate).serialNumber)
        #expect(confirmation.new.value(of: "証明書シリアル番号") == CertificateSummary(newCertificate).serialNumber)
        #expect(confirmation.current.value(of: "証明書シリアル番号") != confirmation.new.value(of: "証明書シリアル番号"))
        #expect(
            confirmation.current.value(of: "証明書有効期限")
                == CertificateSummary.japanDate(oldCertificate.notValidAfter))
        #expect(confirmation.new.value(of: "証明書有効期限") == CertificateSummary.japanDate(newCertificate.notValidAfter))
        #expect(confirmation.notes.contains { $0.contains("厳正の業者名称") })
        // Nothing is stored before 更新.
        #expect(try await bench.stored() == bench.registration)

        let completion = try await renewal.update()
        #expect(await renewal.step == .completed(completion))
        #expect(await renewal.step.prompt == "電子証明書の更新が完了いたしました。")
        let stored = try await bench.stored()
        #expect(stored.version == bench.registration.version + 1)
        #expect(try stored.binding(bench.binding.id).recordedStatus == .superseded)
        #expect(try stored.binding(completion.newBindingID).recordedStatus == .active)
        #expect(try stored.binding(completion.newBindingID).kind == .icCard)
        #expect(try stored.binding(bench.binding.id).supersededBy == completion.newBindingID)
        #expect(stored.activeBindings(of: bench.userID, at: bench.clock.now).map(\.id) == [completion.newBindingID])
        #expect(!completion.outbox.isEmpty, "the GEPS hand-over and the mail are written with the change")

        await #expect(throws: RegistrationError.certificateNotActive(.superseded)) {
            try await bench.login(with: bench.currentCard, pin: RenewalBench.currentPIN)
        }
        let session = try await bench.login(with: new, pin: RenewalBench.newPIN)
        #expect(session.userID == bench.userID)
        #expect(session.bindingID == completion.newBindingID)
    }

    @Test("seed 001's wording labels the rows 商号又は名称, ICカード商号又は名称, ICカード取得者業者所在地")
    func tradeNameWording() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let confirmation = try await bench.driveToConfirmation(
            bench.renewal(slot: slot, wording: .tradeName), slot: slot, new: try bench.newCard())
        #expect(
            confirmation.new.rows.map(\.label).prefix(5) == [
                "商号又は名称", "所在地", "ICカード商号又は名称", "ICカード取得者氏名", "ICカード取得者業者所在地",
            ])
        #expect(confirmation.new.value(of: "商号又は名称") == RenewalBench.companyName)
        #expect(confirmation.notes.contains { $0.contains("厳正の商号又は名称") })
    }

    // MARK: PINs

    @Test("a wrong PIN keeps the step and says the tries left; a PIN of the wrong form spends no try")
    func wrongPIN() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()
        await #expect(throws: LifecycleError.wrongPIN(.current, triesLeft: 9)) {
            try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.wrongPIN))
        }
        #expect(await renewal.step == .enterCurrentPIN(triesLeft: 9))
        #expect(bench.currentCard.triesLeft == 9)
        #expect(LifecycleError.wrongPIN(.current, triesLeft: 9).description.contains("9 tries are left"))
        // A PIN for another policy (digits, 4) that breaks the card's form is refused before VERIFY.
        let digitsOnly = PINPolicy.privateCA(length: 2...3, allowedCharacters: .digits, maximumTries: 10)
        await #expect(
            throws: LifecycleError.pinFormat(.current, .tooShort(policy: RenewalBench.policy.name, minimum: 4))
        ) {
            try await renewal.verifyCurrentPIN(try SecretPIN("12", policy: digitsOnly))
        }
        #expect(bench.currentCard.triesLeft == 9)
        try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        #expect(await renewal.step == .swapCards)
        #expect(bench.currentCard.triesLeft == 10)

        slot.swap(to: try bench.newCard())
        try await renewal.swapCards()
        await #expect(throws: LifecycleError.wrongPIN(.new, triesLeft: 9)) {
            try await renewal.verifyNewPIN(try RenewalBench.pin(RenewalBench.wrongPIN))
        }
        #expect(await renewal.step == .enterNewPIN(triesLeft: 9))
        try await renewal.verifyNewPIN(try RenewalBench.pin(RenewalBench.newPIN))
        guard case .confirm = await renewal.step else {
            Issue.record("not at the confirmation: \(await renewal.step)")
            return
        }
    }

    @Test("the last try is not spent unless allowed; spending it wrongly blocks the card and ends the renewal")
    func lastTryAndBlocking() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()
        for tries in stride(from: 9, through: 1, by: -1) {
            await #expect(throws: LifecycleError.wrongPIN(.current, triesLeft: tries)) {
                try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.wrongPIN))
            }
        }
        await #expect(throws: LifecycleError.lastTryRefused(.current)) {
            try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.wrongPIN))
        }
        #expect(bench.currentCard.triesLeft == 1)
        await #expect(throws: LifecycleError.pinBlocked(.current)) {
            try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.wrongPIN), allowLastTry: true)
        }
        #expect(await renewal.step == .insertCurrentCard)
        #expect(try await bench.stored() == bench.registration)
    }

    @Test("a forged card with the registered certificate but another key is refused after its PIN")
    func forgedCurrentCard() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        // Someone copies the registered certificate onto a card of their own, with their own key and PIN.
        let own = try bench.newCard()
        var contents = bench.currentCard.snapshot
        contents.signingKeyPEM = own.snapshot.signingKeyPEM
        contents.pin = own.snapshot.pin
        let forged = try PrivateCAICCard(snapshot: contents)
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(forged)
        try await renewal.readCurrentCard()
        let error = await #expect(throws: LifecycleError.cardKeyMismatch(.current)) {
            try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.newPIN))
        }
        #expect(error?.description.contains("does not belong") == true)
        #expect(await renewal.step == .enterCurrentPIN(triesLeft: 10))
        #expect(try await bench.stored() == bench.registration)
    }

    // MARK: The current card refused: 新規登録

    @Test("a current card whose PIN is blocked (閉塞) is refused with the new-registration advice")
    func blockedCurrentCard() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        // Block the PIN the way a person would: wrong PINs straight at the card.
        let blocker = SimulatedSlot(name: "Blocker")
        blocker.insert(bench.currentCard)
        let client = try await ICCard.connect(
            transport: try await blocker.connect(), profile: .procurementIdentitySimulator)
        while bench.currentCard.triesLeft > 0 {
            _ = try? await client.verifyPIN(try RenewalBench.pin(RenewalBench.wrongPIN), allowLastTry: true)
        }
        blocker.remove()

        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        let error = await #expect(throws: LifecycleError.pinBlocked(.current)) { try await renewal.readCurrentCard() }
        #expect(error?.requiresNewRegistration == true)
        #expect(error?.description.contains("新規登録") == true)
        #expect(error?.description.contains("閉塞") == true)
        #expect(await renewal.step == .insertCurrentCard)
    }

    @Test("an expired current card is refused with the new-registration advice")
    func expiredCurrentCard() async throws {
        let bench = try await RenewalBench(currentValidity: .expired(daysAgo: 3))
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        let error = await #expect(throws: LifecycleError.self) { try await renewal.readCurrentCard() }
        guard error?.code == .currentCardExpired, let notAfter = error?.date else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(notAfter == bench.binding.notValidAfter)
        #expect(error?.requiresNewRegistration == true)
        #expect(error?.description.contains("新規登録") == true)
        #expect(error?.description.contains("有効期限切れ") == true)
        #expect(await renewal.step == .insertCurrentCard)
    }

    @Test("a revoked (lost) current card is refused through the CA's CRL, with the new-registration advice")
    func revokedCurrentCard() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let crl = try bench.revoke(bench.currentCard)
        let slot = SimulatedSlot()
        slot.insert(bench.currentCard)
        // Without the CRL the flow cannot know; with it, the card is refused.
        try await bench.renewal(slot: slot).readCurrentCard()
        let renewal = bench.renewal(slot: slot, crls: [crl])
        let error = await #expect(throws: LifecycleError.self) { try await renewal.readCurrentCard() }
        guard error?.code == .currentCardRevoked else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(error?.requiresNewRegistration == true)
        #expect(error?.description.contains("失効") == true)
        #expect(error?.description.contains("新規登録") == true)
    }

    @Test("a card that is not the user's registered card is refused; so is one already superseded")
    func unregisteredOrSupersededCurrentCard() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(try bench.newCard())
        await #expect(throws: LifecycleError.currentCardNotRegistered) { try await renewal.readCurrentCard() }

        let new = try bench.newCard()
        _ = try await bench.driveToConfirmation(renewal, slot: slot, new: new)
        try await renewal.update()
        let again = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        let error = await #expect(throws: LifecycleError.currentCardNotActive(.superseded)) {
            try await again.readCurrentCard()
        }
        #expect(error?.description.contains("newer card") == true)
    }

    // MARK: The new card refused

    @Test("a new card whose company name differs stops the renewal and shows both names")
    func companyNameMismatch() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        var other = RenewalBench.holder
        other.companyName = "株式会社テスト建設工業"
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()
        try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        let wrong = try bench.newCard(holder: other)
        slot.swap(to: wrong)
        let error = await #expect(
            throws: LifecycleError.companyNameMismatch(registered: RenewalBench.companyName, card: "株式会社テスト建設工業")
        ) { try await renewal.swapCards() }
        #expect(error?.description.contains("株式会社テスト建設工業") == true)
        #expect(error?.description.contains("(商号又は名称: 株式会社テスト建設)") == true)
        #expect(await renewal.step == .swapCards)
        #expect(wrong.triesLeft == 10, "a refused card never costs a PIN try")
        #expect(try await bench.stored() == bench.registration)

        // The right card then goes through.
        slot.swap(to: try bench.newCard())
        try await renewal.swapCards()
        #expect(await renewal.step == .enterNewPIN(triesLeft: 10))
    }

    @Test("a new card for another holder (name, or the address the current card carries) is refused")
    func holderMismatch() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()
        try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))

        var otherName = RenewalBench.holder
        otherName.name = "入札\u{3000}次郎"
        slot.swap(to: try bench.newCard(holder: otherName))
        await #expect(
            throws: LifecycleError.holderMismatch(field: "ICカード取得者氏名", current: "入札\u{3000}太郎", new: "入札\u{3000}次郎")
        ) { try await renewal.swapCards() }

        var otherAddress = RenewalBench.holder
        otherAddress.street = "霞が関2-2-2"
        slot.swap(to: try bench.newCard(holder: otherAddress))
        await #expect(
            throws: LifecycleError.holderMismatch(
                field: "ICカード取得者所在地", current: "東京都千代田区霞が関1-1-1", new: "東京都千代田区霞が関2-2-2")
        ) { try await renewal.swapCards() }
        #expect(await renewal.step == .swapCards)
    }

    @Test("a new card from an untrusted CA, expired, not yet valid or revoked is refused; so is the current card again")
    func newCardCertificateRefused() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let strangerDirectory = bench.directory.appending(path: "stranger")
        try FileManager.default.createDirectory(at: strangerDirectory, withIntermediateDirectories: true)
        let stranger = try TestCertificateAuthority(directory: strangerDirectory)
        let revokedCard = try bench.newCard()
        let crl = try bench.revoke(revokedCard)

        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot, crls: [crl], timeout: .milliseconds(200))
        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()
        try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))

        // The current card left in the reader: the flow waits for its removal.
        await #expect(throws: LifecycleError.cardNotRemoved(reader: slot.name)) { try await renewal.swapCards() }
        // Taken out and put back while the flow waits: the same card.
        let observed = ObservedSlot(slot)
        let watched = ICCardRenewal(
            user: bench.userID, of: bench.registration.id, slot: observed,
            environment: bench.environment(crls: [crl], timeout: .seconds(30)))
        try await watched.readCurrentCard()
        try await watched.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        let again = Task { try await watched.swapCards() }
        await observed.next(.removal)
        slot.remove()
        await observed.next(.card)
        slot.insert(bench.currentCard)
        await #expect(throws: LifecycleError.sameCard) { try await again.value }
        #expect(await watched.step == .swapCards)

        slot.swap(to: try bench.newCard(authority: stranger))
        let untrusted = await #expect(throws: LifecycleError.self) { try await renewal.swapCards() }
        guard untrusted?.code == .certificateUntrusted, untrusted?.cardRole == .new else {
            Issue.record("got \(String(describing: untrusted))")
            return
        }

        slot.swap(to: try bench.newCard(validity: .expired(daysAgo: 2, from: bench.clock.now)))
        let expired = await #expect(throws: LifecycleError.self) { try await renewal.swapCards() }
        guard expired?.code == .newCardExpired else {
            Issue.record("got \(String(describing: expired))")
            return
        }

        slot.swap(to: try bench.newCard(validity: .notYetValid(inDays: 3, from: bench.clock.now)))
        let early = await #expect(throws: LifecycleError.self) { try await renewal.swapCards() }
        guard early?.code == .newCardNotYetValid else {
            Issue.record("got \(String(describing: early))")
            return
        }

        slot.swap(to: revokedCard)
        let revoked = await #expect(throws: LifecycleError.self) { try await renewal.swapCards() }
        guard revoked?.code == .newCardRevoked else {
            Issue.record("got \(String(describing: revoked))")
            return
        }
        #expect(await renewal.step == .swapCards)
        #expect(try await bench.stored() == bench.registration)
    }

    @Test("a new card registered already is refused; a blocked new card is refused")
    func newCardRegisteredOrBlocked() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        // Another business registered this card first.
        let taken = try bench.newCard()
        let otherBusiness = try BusinessInformation(
            name: RenewalBench.companyName, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1",
            representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: nil, phone: "03-1234-5678")
        let user = try UserInformation(
            title: "代表取締役", name: "入札 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1", phone: "03-1234-5678",
            fax: "03-1234-5679", mail: "other@example.co.jp")
        _ = try await bench.service.commit(
            try await bench.service.prepareRegistration(
                of: otherBusiness, representative: user, certificate: try RenewalBench.certificate(of: taken),
                kind: .icCard, by: .portal(operator: "test")))

        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()
        try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        slot.swap(to: taken)
        await #expect(throws: LifecycleError.newCardAlreadyRegistered) { try await renewal.swapCards() }

        let blocked = try bench.newCard(maximumTries: 1)
        let blocker = SimulatedSlot(name: "Blocker")
        blocker.insert(blocked)
        let client = try await ICCard.connect(
            transport: try await blocker.connect(), profile: .procurementIdentitySimulator)
        _ = try? await client.verifyPIN(try RenewalBench.pin(RenewalBench.wrongPIN), allowLastTry: true)
        blocker.remove()
        #expect(blocked.triesLeft == 0)
        slot.swap(to: blocked)
        let error = await #expect(throws: LifecycleError.pinBlocked(.new)) { try await renewal.swapCards() }
        #expect(error?.requiresNewRegistration == false)
        #expect(await renewal.step == .swapCards)
    }

    // MARK: 戻る

    @Test("戻る at each step returns to the start and leaves the registration unchanged")
    func backAtEachStep() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        let new = try bench.newCard()
        let steps: [(String, () async throws -> Void)] = [
            ("insertCurrentCard", {}),
            (
                "enterCurrentPIN",
                {
                    slot.insert(bench.currentCard)
                    try await renewal.readCurrentCard()
                }
            ),
            (
                "swapCards",
                {
                    slot.insert(bench.currentCard)
                    try await renewal.readCurrentCard()
                    try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
                }
            ),
            (
                "enterNewPIN",
                {
                    slot.insert(bench.currentCard)
                    try await renewal.readCurrentCard()
                    try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
                    slot.swap(to: new)
                    try await renewal.swapCards()
                }
            ),
            ("confirm", { _ = try await bench.driveToConfirmation(renewal, slot: slot, new: new) }),
        ]
        for (name, reach) in steps {
            try await reach()
            #expect(await renewal.step.name.rawValue == name)
            try await renewal.back()
            #expect(await renewal.step == .insertCurrentCard, "after 戻る at \(name)")
            #expect(try await bench.stored() == bench.registration, "after 戻る at \(name)")
            #expect(try await bench.store.history(of: bench.registration.id).count == 1)
        }
        // After 戻る the renewal starts over and can still complete.
        _ = try await bench.driveToConfirmation(renewal, slot: slot, new: new)
        try await renewal.update()
        #expect(try await bench.stored().version == bench.registration.version + 1)
    }

    @Test("a call at the wrong step is refused and changes nothing")
    func wrongStep() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let renewal = bench.renewal(slot: slot)
        await #expect(throws: LifecycleError.notAtStep(expected: "confirm", current: "insertCurrentCard")) {
            try await renewal.update()
        }
        await #expect(throws: LifecycleError.notAtStep(expected: "swapCards", current: "insertCurrentCard")) {
            try await renewal.swapCards()
        }
        await #expect(throws: LifecycleError.notAtStep(expected: "enterNewPIN", current: "insertCurrentCard")) {
            try await renewal.verifyNewPIN(try RenewalBench.pin(RenewalBench.newPIN))
        }
        #expect(await renewal.step == .insertCurrentCard)
    }

    // MARK: Cards pulled

    @Test("a card pulled at each step: a clear error, the step unchanged, and the flow resumes when it is back")
    func cardPulledAtEachStep() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let faults = FaultInjector()
        let slot = SimulatedSlot(name: "Reader 0", faults: faults)
        let renewal = bench.renewal(slot: slot, timeout: .milliseconds(200))
        let new = try bench.newCard()

        // Reading the current card.
        slot.insert(bench.currentCard)
        faults.arm(.pullCard, matching: { $0.ins == 0xB0 })
        await #expect(throws: LifecycleError.cardRemoved(.current)) { try await renewal.readCurrentCard() }
        #expect(await renewal.step == .insertCurrentCard)
        await #expect(throws: LifecycleError.noCardInserted(reader: "Reader 0")) { try await renewal.readCurrentCard() }
        slot.insert(bench.currentCard)
        try await renewal.readCurrentCard()

        // Its PIN: pulled before OK, then pulled during VERIFY.
        slot.remove()
        await #expect(throws: LifecycleError.cardRemoved(.current)) {
            try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        }
        #expect(await renewal.step == .enterCurrentPIN(triesLeft: 10))
        slot.insert(new)
        await #expect(throws: LifecycleError.differentCardInserted(.current)) {
            try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        }
        slot.insert(bench.currentCard)
        faults.arm(.pullCard, matching: { $0.ins == 0x20 && $0.data.count > 0 })
        await #expect(throws: LifecycleError.cardRemoved(.current)) {
            try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        }
        #expect(await renewal.step == .enterCurrentPIN(triesLeft: 10))
        slot.insert(bench.currentCard)
        try await renewal.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        #expect(await renewal.step == .swapCards)

        // The new card pulled while it is read.
        slot.swap(to: new)
        faults.arm(.pullCard, matching: { $0.ins == 0xB0 })
        await #expect(throws: LifecycleError.cardRemoved(.new)) { try await renewal.swapCards() }
        #expect(await renewal.step == .swapCards)
        slot.insert(new)
        try await renewal.swapCards()

        // Its PIN, pulled during the possession check (the signature).
        faults.arm(.pullCard, matching: { $0.ins == 0x2A })
        await #expect(throws: LifecycleError.cardRemoved(.new)) {
            try await renewal.verifyNewPIN(try RenewalBench.pin(RenewalBench.newPIN))
        }
        #expect(await renewal.step == .enterNewPIN(triesLeft: 10))
        await #expect(throws: LifecycleError.cardRemoved(.new)) {
            try await renewal.verifyNewPIN(try RenewalBench.pin(RenewalBench.newPIN))
        }
        slot.insert(new)
        try await renewal.verifyNewPIN(try RenewalBench.pin(RenewalBench.newPIN))

        // At the confirmation everything is read and proven: the card may leave.
        slot.remove()
        #expect(try await bench.stored() == bench.registration)
        try await renewal.update()
        #expect(try await bench.stored().version == bench.registration.version + 1)
    }

    // MARK: Concurrency

    @Test("a store that fails at 更新 stores nothing and keeps the confirmation; 更新 again then succeeds")
    func storeFailureKeepsConfirmation() async throws {
        let bench = try await RenewalBench(sqlite: true)
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "A")
        let renewal = bench.renewal(slot: slot)
        let confirmation = try await bench.driveToConfirmation(renewal, slot: slot, new: try bench.newCard())

        // Another program holds the database's write lock past the store's busy timeout.
        let lock = try DatabaseLockHolder(path: bench.databasePath)
        let failure = await lifecycleError { try await renewal.update() }
        lock.release()
        guard failure?.code == .registration, case .storeFailure? = failure?.registrationError else {
            Issue.record("expected a store failure, got \(String(describing: failure))")
            return
        }
        #expect(failure?.description.contains("nothing was changed") == true)
        #expect(await renewal.step == .confirm(confirmation))
        #expect(try await bench.stored().version == bench.registration.version)

        let done = try await renewal.update()
        #expect(try await bench.stored().version == bench.registration.version + 1)
        #expect(try done.registration.binding(done.supersededBindingID).recordedStatus == .superseded)
    }

    @Test("two renewals of one user at once: one wins, the other fails cleanly and nothing of it is stored")
    func concurrentRenewals() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slotA = SimulatedSlot(name: "A")
        let slotB = SimulatedSlot(name: "B")
        let a = bench.renewal(slot: slotA)
        let b = bench.renewal(slot: slotB)
        let newA = try bench.newCard()
        let newB = try bench.newCard()
        // The same current card, twice (a copy of its contents), as two browser sessions would see it.
        let copy = try PrivateCAICCard(snapshot: bench.currentCard.snapshot)
        let confirmationA = try await bench.driveToConfirmation(a, slot: slotA, new: newA)
        slotB.insert(copy)
        try await b.readCurrentCard()
        try await b.verifyCurrentPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        slotB.swap(to: newB)
        try await b.swapCards()
        try await b.verifyNewPIN(try RenewalBench.pin(RenewalBench.newPIN))

        async let resultA = a.updateOutcome()
        async let resultB = b.updateOutcome()
        let results = await [resultA, resultB]
        let winners = results.compactMap { try? $0.get() }
        let failures = results.compactMap { result -> LifecycleError? in
            if case .failure(let error) = result { return error }
            return nil
        }
        #expect(winners.count == 1)
        #expect(failures == [.registrationChanged])
        #expect(failures.first?.description.contains("nothing was stored") == true)

        let stored = try await bench.stored()
        #expect(stored.version == bench.registration.version + 1)
        let active = stored.activeBindings(of: bench.userID, at: bench.clock.now)
        #expect(active.count == 1)
        #expect(active.map(\.id) == winners.map(\.newBindingID))
        let loser = winners.first?.confirmation == confirmationA ? newB : newA
        #expect(
            stored.binding(fingerprint: try CertificateBinding.fingerprint(of: RenewalBench.certificate(of: loser)))
                == nil)
        // The loser starts over.
        #expect(await [a.step.name.rawValue, b.step.name.rawValue].sorted() == ["completed", "insertCurrentCard"])
    }

    @Test("a second call while one waits for a card is refused; 戻る ends the waiting call's effect")
    func callWhileWaiting() async throws {
        let bench = try await RenewalBench()
        defer { bench.remove() }
        let slot = SimulatedSlot()
        let observed = ObservedSlot(slot)
        let renewal = ICCardRenewal(
            user: bench.userID, of: bench.registration.id, slot: observed,
            environment: bench.environment(timeout: .seconds(30)))
        let waiting = Task { try await renewal.readCurrentCard() }
        await observed.next(.card)
        await #expect(throws: LifecycleError.stepInProgress) { try await renewal.readCurrentCard() }
        try await renewal.back()
        slot.insert(bench.currentCard)
        let result = await waiting.result
        #expect(throws: LifecycleError.flowRestarted) { try result.get() }
        #expect(await renewal.step == .insertCurrentCard)
        try await renewal.readCurrentCard()
        #expect(await renewal.step == .enterCurrentPIN(triesLeft: 10))
    }

    @Test("no description carries a PIN")
    func descriptionsCarryNoPIN() async throws {
        let errors: [LifecycleError] = [
            .wrongPIN(.current, triesLeft: 3), .pinFormat(.new, .tooShort(policy: "PIN", minimum: 4)),
            .lastTryRefused(.new),
            .pinBlocked(.current), .pinBlocked(.new), .cardRemoved(.current), .sameCard,
            .companyNameMismatch(registered: "A", card: nil), .registrationChanged,
        ]
        for error in errors {
            #expect(!error.description.contains(RenewalBench.currentPIN))
            #expect(!error.description.contains(RenewalBench.newPIN))
            #expect(error.description.hasSuffix(".") || error.description.hasSuffix(")"))
        }
        #expect(LifecycleError.companyNameMismatch(registered: "A", card: nil).description.contains("none"))
    }
}
