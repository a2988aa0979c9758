import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import JPKI
import Testing
import X509

@Suite struct PINTests {
    @Test func everyPINReportsItsTriesLeft() async throws {
        let (_, _, card) = try await Fixture.get().client()
        let statuses = try await card.pinStatuses()
        #expect(
            statuses == [.authentication: .triesLeft(3), .signing: .triesLeft(5), .textInputSupport: .triesLeft(3)])
        // SELECT AP, (SELECT EF, query) × 2, then SELECT of the text-input-support AP, SELECT EF, query.
        #expect(card.channel.statistics.apdusSent == 8)
    }

    @Test func theSigningPINBlocksAfterFiveWrongTries() async throws {
        let (jpkiCard, _, card) = try await Fixture.get().client()
        let wrong = try SecretPIN("WRONG1", policy: .jpkiSigning)
        for expected in [4, 3, 2, 1] {
            await #expect(throws: JPKIError.wrongPIN(.signing, triesLeft: expected)) {
                try await card.verifyPIN(wrong, for: .signing)
            }
        }
        // One try left: refused unless allowed, and nothing is spent.
        await #expect(throws: JPKIError.lastTryRefused(.signing)) {
            try await card.verifyPIN(wrong, for: .signing)
        }
        #expect(jpkiCard.triesLeft(.signing) == 1)
        await #expect(throws: JPKIError.pinBlocked(.signing)) {
            try await card.verifyPIN(wrong, for: .signing, allowLastTry: true)
        }
        #expect(try await card.pinStatus(.signing) == .blocked)
        // Even the right PIN is refused now, and the other PINs are untouched.
        let right = try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning)
        await #expect(throws: JPKIError.pinBlocked(.signing)) {
            try await card.verifyPIN(right, for: .signing, allowLastTry: true)
        }
        #expect(try await card.pinStatus(.authentication) == .triesLeft(3))
        let message = JPKIError.pinBlocked(.signing).description
        #expect(message.contains("閉塞") && message.contains("市区町村窓口"))
        #expect(!message.contains(Fixture.signingPIN))
    }

    @Test func aRightPINResetsTheCounter() async throws {
        let (_, _, card) = try await Fixture.get().client()
        await #expect(throws: JPKIError.wrongPIN(.authentication, triesLeft: 2)) {
            try await card.verifyPIN(try SecretPIN("0000", policy: .jpkiAuthentication), for: .authentication)
        }
        try await card.verifyPIN(
            try SecretPIN(Fixture.authenticationPIN, policy: .jpkiAuthentication), for: .authentication)
        #expect(try await card.pinStatus(.authentication) == .triesLeft(3))
    }

    @Test func aCardThatAnswers9000WhileVerifiedIsUnderstood() async throws {
        let (_, _, card) = try await Fixture.get().client(CardBehavior(verifiedPINQuery: .success))
        let pin = try SecretPIN(Fixture.authenticationPIN, policy: .jpkiAuthentication)
        try await card.verifyPIN(pin, for: .authentication)
        #expect(try await card.pinStatus(.authentication) == .verified)
        try await card.verifyPIN(pin, for: .authentication)
    }

    @Test func aPINOfTheWrongFormNeverReachesTheCard() async throws {
        let (_, _, card) = try await Fixture.get().client()
        // Four digits are a valid authentication PIN but too short for the signing PIN.
        let short = try SecretPIN("1234", policy: .jpkiAuthentication)
        do {
            try await card.verifyPIN(short, for: .signing)
            Issue.record("a four-character signing PIN was sent")
        } catch {
            guard error.code == .pinFormat, error.pin == .signing, case .tooShort = error.formatProblem else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(!error.description.contains("1234"))
        }
        #expect(card.channel.statistics.apdusSent == 0)
        #expect(throws: CardCredentialsError.self) { _ = try SecretPIN("ＡＢＣ１２３", policy: .jpkiSigning) }
    }
}

@Suite struct TextInputSupportTests {
    @Test func theTextInputSupportApplicationReadsTheHolder() async throws {
        let (_, _, card) = try await Fixture.get().client()
        let pin = try SecretPIN(Fixture.textInputSupportPIN, policy: .textInputSupport)
        let info = try await card.textInputSupportInfo(pin: pin)
        let holder = JPKIHolder.example
        #expect(info.individualNumber == holder.individualNumber)
        #expect(info.name == holder.name)
        #expect(info.address == holder.address)
        #expect(info.dateOfBirth == holder.dateOfBirth)
        #expect(info.sex == .female)
        #expect(card.channel.statistics.apdusSent == 8)
        // The JPKI application is selected again afterwards, which forgets the text-input-support PIN.
        _ = try await card.certificate(.authentication)
    }

    @Test func aWrongTextInputSupportPINIsCountedApart() async throws {
        let (jpkiCard, _, card) = try await Fixture.get().client()
        await #expect(throws: JPKIError.wrongPIN(.textInputSupport, triesLeft: 2)) {
            _ = try await card.textInputSupportInfo(pin: try SecretPIN("0000", policy: .textInputSupport))
        }
        #expect(jpkiCard.triesLeft(.authentication) == 3)
    }

    @Test func thePublishedTestVectorDecodes() throws {
        let facts = try Hex.decode(
            "ff2065df2108000e002000590064df220fe9bb92e6a190e38080e5b9b9e4b99fdf2336e69db1e4baace983bde6b885e780ace5b882"
                + "e8a6b3e5b883e5ad90e58d97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92df24083139383030323137df250131"
        )
        let number = [0xFF, 0x10, 0x0C] + Array("123456789012".utf8) + [0xFF, 0xFF]
        let info = try TextInputSupportInfo(individualNumberFile: number, basicFourFactsFile: facts)
        #expect(info.individualNumber == "123456789012")
        #expect(info.name == "黒桐\u{3000}幹也")
        #expect(info.address.hasPrefix("東京都"))
        #expect(info.dateOfBirth == "19800217")
        #expect(info.sex == .male)
    }

    @Test func damagedFilesAreRefused() throws {
        let facts = JPKIHolder.example.basicFourFactsFile
        let number = JPKIHolder.example.individualNumberFile
        #expect(throws: JPKIError.self) {
            _ = try TextInputSupportInfo(individualNumberFile: Array(number.prefix(10)), basicFourFactsFile: facts)
        }
        var letters = number
        letters[5] = 0x41
        #expect(throws: JPKIError.malformedTextInputSupportData("the individual number in EF 0001 is not 12 digits")) {
            _ = try TextInputSupportInfo(individualNumberFile: letters, basicFourFactsFile: facts)
        }
        #expect(throws: JPKIError.self) {
            _ = try TextInputSupportInfo(individualNumberFile: number, basicFourFactsFile: Array(facts.dropLast(4)))
        }
        #expect(throws: JPKIError.malformedTextInputSupportData("EF 0002 has no FF20 template")) {
            _ = try TextInputSupportInfo(individualNumberFile: number, basicFourFactsFile: [0x01, 0x01, 0x00])
        }
    }
}

@Suite struct ValidationTests {
    @Test func theCardsCertificatesChainToTheSimulatorsRoots() async throws {
        let fixture = try Fixture.get()
        let authentication = try Certificate(derEncoded: fixture.snapshot.authenticationCertificate)
        let chain = try await MyNumberCard.validate(
            authentication, for: .authentication,
            trustAnchors: [fixture.authority.rootCertificate(.jpkiAuthentication)])
        #expect(chain.first == authentication)
    }

    @Test func theJLISRootsDoNotTrustTheSimulator() async throws {
        let fixture = try Fixture.get()
        let signing = try Certificate(derEncoded: fixture.snapshot.signingCertificate)
        do {
            try await MyNumberCard.validate(signing, for: .signing)
            Issue.record("a simulator certificate chained to the J-LIS roots")
        } catch {
            guard error.code == .certificateRejected, case .untrustedChain = error.validationResult else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    @Test func anExpiredCertificateSaysSo() async throws {
        let fixture = try Fixture.get()
        let signing = try Certificate(derEncoded: fixture.snapshot.signingCertificate)
        let later = Date().addingTimeInterval(6 * 365 * 86_400)
        do {
            try await MyNumberCard.validate(
                signing, for: .signing, trustAnchors: [fixture.authority.rootCertificate(.jpkiSigning)],
                revocation: .none, at: later)
            Issue.record("an expired certificate was accepted")
        } catch {
            guard error.code == .certificateExpired else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(error.description.contains("有効期限切れ"))
        }
    }

    @Test func aRevokedCertificateSaysSo() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "jpki-revoked-\(UUID().uuidString)")
        let authority = try TestCertificateAuthority(directory: directory)
        let card = try JPKICard.issue(by: authority, holder: .example, signingPIN: "TEST123", authenticationPIN: "1234")
        let signing = try Certificate(derEncoded: card.snapshot.signingCertificate)
        try authority.revoke(signing.serialNumber, reason: .affiliationChanged)
        let crl = try CertificateRevocationList(bytes: try authority.publishCRL(for: .jpkiSigning))
        do {
            try await MyNumberCard.validate(
                signing, for: .signing, trustAnchors: [authority.rootCertificate(.jpkiSigning)], crls: [crl],
                revocation: .required)
            Issue.record("a revoked certificate was accepted")
        } catch {
            guard error.code == .certificateRevoked, case .revoked(let reason, _, _) = error.validationResult else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(reason == .affiliationChanged)
            #expect(error.description.contains("失効"))
        }
    }
}

/// Issue 18: changing each PIN (暗証番号の変更) with VERIFY then CHANGE REFERENCE DATA.
@Suite struct PINChangeTests {
    static let cases: [(JPKIPIN, String, String)] = [
        (.signing, Fixture.signingPIN, "NEWPIN99"),
        (.authentication, Fixture.authenticationPIN, "9753"),
        (.textInputSupport, Fixture.textInputSupportPIN, "2468"),
    ]

    @Test(arguments: cases)
    func aPINChangesAfterItsVerificationInFiveAPDUs(pin: JPKIPIN, current: String, new: String) async throws {
        let fixture = try Fixture.get()
        let jpkiCard = try fixture.card()
        let slot = SimulatedSlot()
        slot.insert(jpkiCard)
        let log = CommandLog()
        var configuration = CardChannel.Configuration()
        configuration.tracer = { command, _ in log.record(command) }
        let card = MyNumberCard(channel: CardChannel(transport: try await slot.connect(), configuration: configuration))
        try await card.changePIN(
            pin, from: try SecretPIN(current, policy: pin.policy), to: try SecretPIN(new, policy: pin.policy))
        // SELECT AP, SELECT PIN EF, tries left, VERIFY, CHANGE REFERENCE DATA.
        #expect(card.channel.statistics.apdusSent == 5)
        let change = try #require(log.all.last)
        #expect(change.cla == 0x00 && change.ins == 0x24 && change.p1 == 0x01 && change.p2 == 0x80)
        #expect(change.isSensitive)
        #expect(change.data.allSatisfy { $0 == 0 }, "the tracer sees the new PIN masked")
        #expect(log.all[1].data == [UInt8(pin.fileID >> 8), UInt8(pin.fileID & 0xFF)])

        // A fresh session: the old PIN is refused (one try spent), the new one works and resets the counter.
        let again = MyNumberCard(transport: try await slot.connect())
        let tries = pin.policy.maximumTries ?? 3
        await #expect(throws: JPKIError.wrongPIN(pin, triesLeft: tries - 1)) {
            try await again.verifyPIN(try SecretPIN(current, policy: pin.policy), for: pin)
        }
        try await again.verifyPIN(try SecretPIN(new, policy: pin.policy), for: pin)
        #expect(try await again.pinStatus(pin) == .triesLeft(tries))
    }

    @Test func aNewPINOfTheWrongFormIsRefusedBeforeAnyAPDU() async throws {
        let (jpkiCard, _, card) = try await Fixture.get().client()
        let current = try SecretPIN(Fixture.authenticationPIN, policy: .jpkiAuthentication)
        // Six digits are a valid signing PIN's form, not a user-authentication PIN's (4 digits).
        let sixDigits = try SecretPIN("123456", policy: .jpkiSigning)
        await #expect(
            throws: JPKIError.pinFormat(.authentication, .tooLong(policy: "the user-authentication PIN", maximum: 4))
        ) {
            try await card.changePIN(.authentication, from: current, to: sixDigits)
        }
        let fourCharacters = try SecretPIN(
            "AB12", policy: PINPolicy(name: "a test PIN", length: 4...4, allowedCharacters: .uppercaseLettersAndDigits))
        do {
            try await card.changePIN(
                .signing, from: try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning), to: fourCharacters)
            Issue.record("a four-character signing PIN was sent")
        } catch let error as JPKIError where error.code == .pinFormat && error.pin == .signing {
            guard case .tooShort = error.formatProblem else {
                Issue.record("wrong problem \(error)")
                return
            }
        } catch {
            Issue.record("wrong error \(error)")
        }
        #expect(card.channel.statistics.apdusSent == 0)
        #expect(jpkiCard.triesLeft(.authentication) == 3 && jpkiCard.triesLeft(.signing) == 5)
    }

    @Test func aWrongCurrentPINSaysTheTriesLeftAndChangesNothing() async throws {
        let (jpkiCard, _, card) = try await Fixture.get().client()
        let new = try SecretPIN("1111", policy: .jpkiAuthentication)
        await #expect(throws: JPKIError.wrongPIN(.authentication, triesLeft: 2)) {
            try await card.changePIN(
                .authentication, from: try SecretPIN("0000", policy: .jpkiAuthentication), to: new)
        }
        #expect(card.channel.statistics.apdusSent == 4, "no CHANGE REFERENCE DATA after a wrong VERIFY")
        await #expect(throws: JPKIError.wrongPIN(.authentication, triesLeft: 1)) {
            try await card.changePIN(
                .authentication, from: try SecretPIN("0000", policy: .jpkiAuthentication), to: new)
        }
        // One try left: not spent unless allowed.
        await #expect(throws: JPKIError.lastTryRefused(.authentication)) {
            try await card.changePIN(
                .authentication, from: try SecretPIN(Fixture.authenticationPIN, policy: .jpkiAuthentication), to: new)
        }
        #expect(jpkiCard.triesLeft(.authentication) == 1)
        try await card.changePIN(
            .authentication, from: try SecretPIN(Fixture.authenticationPIN, policy: .jpkiAuthentication), to: new,
            allowLastTry: true)
        #expect(jpkiCard.triesLeft(.authentication) == 3)
        try await card.verifyPIN(new, for: .authentication)
    }

    @Test func aNewPINTheCardRefusesIsReportedAsSuch() async throws {
        // The fault answers 6A 80 in the card's place (a card with rules of its own for new PINs).
        let faults = FaultInjector()
        faults.arm(.statusWord(.incorrectData), matching: { $0.ins == 0x24 })
        let (_, _, card) = try await Fixture.get().client(faults: faults)
        let current = try SecretPIN(Fixture.authenticationPIN, policy: .jpkiAuthentication)
        await #expect(throws: JPKIError.newPINRefused(.authentication)) {
            try await card.changePIN(
                .authentication, from: current, to: try SecretPIN("1111", policy: .jpkiAuthentication))
        }
        let message = JPKIError.newPINRefused(.authentication).description
        #expect(message.contains("stays unchanged") && !message.contains("1111"))
    }
}
