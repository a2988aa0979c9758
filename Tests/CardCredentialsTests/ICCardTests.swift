import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import Synchronization
import Testing
import X509

/// A private-CA IC card made once per test run (RSA key generation is slow in debug builds); each test makes a
/// fresh card from the snapshot so PIN counters never leak between tests.
struct ICCardFixture: Sendable {
    static let pin = "AOSIGN-2026"
    static let wrongPIN = "WRONG-PIN"

    let directory: URL
    let snapshot: PrivateCAICCard.Snapshot

    private static let shared: Result<ICCardFixture, any Error> = Result { try ICCardFixture() }

    static func get() throws -> ICCardFixture { try shared.get() }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "iccard-tests-\(UUID().uuidString)")
        let authority = try TestCertificateAuthority(directory: directory)
        snapshot = try PrivateCAICCard.issue(by: authority, holder: .example, pin: Self.pin).snapshot
    }

    /// A fresh card; `maximumTries` replaces the PIN record with a new one of that many tries.
    func card(_ behavior: CardBehavior = PrivateCAICCard.defaultBehavior, maximumTries: Int? = nil) throws
        -> PrivateCAICCard
    {
        var snapshot = snapshot
        if let maximumTries { snapshot.pin = try PrivateCAICCard.pinRecord(Self.pin, maximumTries: maximumTries) }
        return try PrivateCAICCard(snapshot: snapshot, behavior: behavior)
    }

    /// A card in a simulated slot and a reader over it (nothing sent yet).
    func client(
        _ behavior: CardBehavior = PrivateCAICCard.defaultBehavior, maximumTries: Int? = nil,
        profile: ICCardProfile = .procurementIdentitySimulator, faults: FaultInjector = FaultInjector(),
        tracer: (@Sendable (CommandAPDU, ResponseAPDU) -> Void)? = nil
    ) async throws -> (PrivateCAICCard, ICCard) {
        let card = try card(behavior, maximumTries: maximumTries)
        let slot = SimulatedSlot(faults: faults)
        slot.insert(card)
        var configuration = CardChannel.Configuration()
        configuration.extendedLength = profile.extendedLength
        configuration.tracer = tracer
        let channel = CardChannel(transport: try await slot.connect(), configuration: configuration)
        return (card, ICCard(channel: channel, profile: profile))
    }

    static func pin(_ text: String = pin) throws -> SecretPIN {
        try SecretPIN(text, policy: ICCardProfile.procurementIdentitySimulator.pinPolicy)
    }
}

/// A card that has none of the applications it is asked for (a bank card, say): SELECT by AID answers `sw`.
final class CardWithoutApplication: VirtualCard {
    let atr: [UInt8] = [0x3B, 0x81, 0x81, 0x01, 0x80, 0x81]
    let selectAnswer: StatusWord
    init(selectAnswer: StatusWord) { self.selectAnswer = selectAnswer }
    func handle(_ event: CardPowerEvent) {}
    func respond(to command: [UInt8]) -> [UInt8] {
        command.count > 1 && command[1] == 0xA4 ? [selectAnswer.sw1, selectAnswer.sw2] : [0x6D, 0x00]
    }
}

/// A card whose application answers every PIN command with `69 00`, its own way of saying “blocked”.
final class CardWithOddBlockedStatus: VirtualCard {
    let atr: [UInt8] = [0x3B, 0x81, 0x81, 0x01, 0x80, 0x81]
    func handle(_ event: CardPowerEvent) {}
    func respond(to command: [UInt8]) -> [UInt8] {
        guard command.count > 1 else { return [0x67, 0x00] }
        switch command[1] {
        case 0xA4: return [0x90, 0x00]
        case 0x20: return [0x69, 0x00]
        default: return [0x6D, 0x00]
        }
    }
}

/// Collects what a channel's tracer sees.
final class APDULog: Sendable {
    private let entries = Mutex<[(CommandAPDU, ResponseAPDU)]>([])
    var tracer: @Sendable (CommandAPDU, ResponseAPDU) -> Void {
        { command, response in self.entries.withLock { $0.append((command, response)) } }
    }
    var commands: [CommandAPDU] { entries.withLock { $0.map(\.0) } }
    var headers: [[UInt8]] { commands.map { [$0.cla, $0.ins, $0.p1, $0.p2] } }
}

@Suite("IC card reader (ICCard) against the simulated private-CA card")
struct ICCardTests {
    // MARK: Recognition and certificates

    @Test("connect selects the application once; the certificates read are the card's, with one extended READ")
    func readCertificatesExtended() async throws {
        let fixture = try ICCardFixture.get()
        let (_, card) = try await fixture.client()
        try await card.select()
        #expect(card.channel.statistics.apdusSent == 1)
        card.channel.resetStatistics()

        let der = try await card.certificateDER()
        #expect(der == fixture.snapshot.holderCertificate)
        #expect(card.channel.statistics.apdusSent == 2, "SELECT EF and one extended READ BINARY")

        let certificate = try await card.certificate()
        #expect(certificate.subject.description.contains("O=株式会社試験建設"))
        #expect(certificate.subject.description.contains("CN=入札\u{3000}太郎"))

        let ca = try #require(try await card.caCertificate())
        #expect(try await card.caCertificateDER() == fixture.snapshot.caCertificate)
        #expect(certificate.issuer == ca.subject)
    }

    @Test("a card without extended length is read in short READ BINARYs, whether the profile knows it or not")
    func readCertificateShort() async throws {
        let fixture = try ICCardFixture.get()
        let short = CardBehavior(
            supportsExtendedLength: false, blockedPINStatus: .authenticationMethodBlocked, verifiedPINQuery: .success)
        let expectedReads = (fixture.snapshot.holderCertificate.count + 255) / 256

        var knowing = ICCardProfile.procurementIdentitySimulator
        knowing.extendedLength = .unsupported
        let (_, informed) = try await fixture.client(short, profile: knowing)
        #expect(try await informed.certificateDER() == fixture.snapshot.holderCertificate)
        #expect(informed.channel.statistics.apdusSent == 2 + expectedReads, "SELECT AP, SELECT EF, short reads")

        // The simulator's profile says extended length: the card's 67 00 costs one APDU, then short reads.
        let (_, probing) = try await fixture.client(short)
        #expect(try await probing.certificateDER() == fixture.snapshot.holderCertificate)
        #expect(probing.channel.statistics.apdusSent == 3 + expectedReads)
        #expect(probing.channel.extendedLengthSupport == .unsupported)
        #expect(try await probing.caCertificateDER() == fixture.snapshot.caCertificate)
    }

    @Test("a card without the profile's application is not this CA's card", arguments: [0x6A82, 0x6D00, 0x6E00])
    func cardWithoutApplication(sw: UInt16) async throws {
        let slot = SimulatedSlot()
        slot.insert(CardWithoutApplication(selectAnswer: StatusWord(sw)))
        let transport = try await slot.connect()
        let error = await #expect(throws: CardCredentialsError.self) {
            _ = try await ICCard.connect(transport: transport, profile: .procurementIdentitySimulator)
        }
        guard case .notThisCard(let profile, let reason)? = error else {
            Issue.record("expected notThisCard, got \(String(describing: error))")
            return
        }
        #expect(profile == ICCardProfile.procurementIdentitySimulator.name)
        #expect(reason.contains("F0 50 52 4F 43 49 44 01"))
        #expect(error?.description.contains("Insert the IC card") == true)

        let other = ICCard(transport: transport, profile: .procurementIdentitySimulator)
        await #expect(throws: CardCredentialsError.notThisCard(profile: profile, reason: reason)) {
            _ = try await other.certificateDER()
        }
    }

    @Test("a SELECT refused for another reason is reported with its status word")
    func selectRefusedOtherwise() async throws {
        let slot = SimulatedSlot()
        slot.insert(CardWithoutApplication(selectAnswer: StatusWord(0x6283)))
        let card = ICCard(transport: try await slot.connect(), profile: .procurementIdentitySimulator)
        let error = await #expect(throws: CardCredentialsError.self) { try await card.select() }
        guard case .unexpectedCardStatus(let sw, _)? = error else {
            Issue.record("expected unexpectedCardStatus, got \(String(describing: error))")
            return
        }
        #expect(sw == StatusWord(0x6283))
    }

    @Test("a profile whose certificate EF the card lacks gets the SELECT's status word, naming the EF")
    func missingCertificateFile() async throws {
        let fixture = try ICCardFixture.get()
        var profile = ICCardProfile.procurementIdentitySimulator
        profile.holderCertificateFileID = 0x0909
        profile.caCertificateFileID = nil
        let (_, card) = try await fixture.client(profile: profile)
        let error = await #expect(throws: CardCredentialsError.self) { _ = try await card.certificate() }
        guard case .unexpectedCardStatus(let sw, let operation)? = error else {
            Issue.record("expected unexpectedCardStatus, got \(String(describing: error))")
            return
        }
        #expect(sw == .fileNotFound)
        #expect(operation.contains("09 09"))
        // No CA certificate in the profile: nothing is sent for it.
        card.channel.resetStatistics()
        #expect(try await card.caCertificate() == nil)
        #expect(try await card.caCertificateDER() == nil)
        #expect(card.channel.statistics.apdusSent == 0)
    }

    @Test("a damaged certificate answer is a malformed certificate, not a crash")
    func corruptedCertificate() async throws {
        let fixture = try ICCardFixture.get()
        let faults = FaultInjector()
        let (_, card) = try await fixture.client(faults: faults)
        faults.arm(.corruptResponse, matching: { $0.ins == 0xB0 })
        let error = await #expect(throws: CardCredentialsError.self) { _ = try await card.certificateDER() }
        guard case .malformedCertificate(let reason)? = error else {
            Issue.record("expected malformedCertificate, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("01 01"))
    }

    @Test("a card pulled during READ BINARY gives cardRemoved, and the session is forgotten")
    func cardPulled() async throws {
        let fixture = try ICCardFixture.get()
        let faults = FaultInjector()
        let (_, card) = try await fixture.client(faults: faults)
        faults.arm(.pullCard, matching: { $0.ins == 0xB0 })
        await #expect(throws: CardCredentialsError.cardRemoved) { _ = try await card.certificateDER() }
        #expect(CardCredentialsError.cardRemoved.description.contains("Insert it again"))
    }

    // MARK: PIN

    @Test("PIN status: 10 tries, 9 after a wrong PIN, verified after the right one (the card answers 90 00)")
    func pinStatus() async throws {
        let fixture = try ICCardFixture.get()
        let (sim, card) = try await fixture.client()
        #expect(try await card.pinStatus() == .triesLeft(10))
        await #expect(throws: CardCredentialsError.wrongPIN(triesLeft: 9)) {
            try await card.verifyPIN(try ICCardFixture.pin(ICCardFixture.wrongPIN))
        }
        #expect(try await card.pinStatus() == .triesLeft(9))
        #expect(sim.triesLeft == 9)
        try await card.verifyPIN(try ICCardFixture.pin())
        #expect(try await card.pinStatus() == .verified)
        #expect(sim.triesLeft == 10, "a right PIN resets the counter")
    }

    @Test("the right PIN: the tries-left query, then VERIFY with reference 81 and the PIN's ASCII bytes")
    func rightPIN() async throws {
        let fixture = try ICCardFixture.get()
        let log = APDULog()
        let (sim, card) = try await fixture.client(tracer: log.tracer)
        try await card.verifyPIN(try ICCardFixture.pin())
        #expect(sim.isVerified)
        #expect(card.channel.statistics.apdusSent == 3, "SELECT AP, query, VERIFY")
        #expect(log.headers == [[0x00, 0xA4, 0x04, 0x0C], [0x00, 0x20, 0x00, 0x81], [0x00, 0x20, 0x00, 0x81]])
        #expect(log.commands[1].data.isEmpty)
        #expect(log.commands[2].data.count == ICCardFixture.pin.utf8.count)
        #expect(log.commands[2].data.allSatisfy { $0 == 0 }, "the tracer sees the PIN masked")
        // Computed outside #expect, whose failure message would print the PIN.
        let commandShowsPIN = "\(log.commands[2])".contains(ICCardFixture.pin)
        #expect(!commandShowsPIN, "the VERIFY command prints its PIN")
    }

    @Test("a wrong PIN says how many tries are left, and its message never holds the PIN")
    func wrongPIN() async throws {
        let fixture = try ICCardFixture.get()
        let (sim, card) = try await fixture.client()
        let error = await #expect(throws: CardCredentialsError.self) {
            try await card.verifyPIN(try ICCardFixture.pin(ICCardFixture.wrongPIN))
        }
        #expect(error == .wrongPIN(triesLeft: 9))
        #expect(error?.description.contains("9 tries are left") == true)
        let messageShowsPIN = error?.description.contains(ICCardFixture.wrongPIN) ?? false
        #expect(!messageShowsPIN, "the error message holds the PIN")
        #expect(!sim.isVerified)
        #expect(sim.triesLeft == 9)
    }

    @Test("the last try is refused unless allowed; allowed, a wrong PIN blocks the card and a right one passes")
    func lastTry() async throws {
        let fixture = try ICCardFixture.get()
        let (sim, card) = try await fixture.client(maximumTries: 2)
        await #expect(throws: CardCredentialsError.wrongPIN(triesLeft: 1)) {
            try await card.verifyPIN(try ICCardFixture.pin(ICCardFixture.wrongPIN))
        }
        card.channel.resetStatistics()
        await #expect(throws: CardCredentialsError.lastTryRefused) {
            try await card.verifyPIN(try ICCardFixture.pin())
        }
        #expect(card.channel.statistics.apdusSent == 1, "only the tries-left query went to the card")
        #expect(sim.triesLeft == 1)
        await #expect(throws: CardCredentialsError.lastTryRefused) {
            _ = try await card.signingKey(pin: try ICCardFixture.pin())
        }
        #expect(sim.triesLeft == 1)

        try await card.verifyPIN(try ICCardFixture.pin(), allowLastTry: true)
        #expect(sim.isVerified)
        #expect(sim.triesLeft == 2)

        let (blockedSim, other) = try await fixture.client(maximumTries: 1)
        await #expect(throws: CardCredentialsError.pinBlocked) {
            try await other.verifyPIN(try ICCardFixture.pin(ICCardFixture.wrongPIN), allowLastTry: true)
        }
        #expect(blockedSim.triesLeft == 0)
    }

    @Test(
        "a blocked PIN (閉塞) is reported as blocked whether the card says 69 83 or 69 84, and VERIFY is not sent",
        arguments: [CardBehavior.StatusWordValue.authenticationMethodBlocked, .referenceDataNotUsable])
    func blockedPIN(blockedStatus: CardBehavior.StatusWordValue) async throws {
        let fixture = try ICCardFixture.get()
        let behavior = CardBehavior(
            supportsExtendedLength: true, blockedPINStatus: blockedStatus, verifiedPINQuery: .success)
        let log = APDULog()
        let (sim, card) = try await fixture.client(behavior, maximumTries: 1, tracer: log.tracer)
        await #expect(throws: CardCredentialsError.pinBlocked) {
            try await card.verifyPIN(try ICCardFixture.pin(ICCardFixture.wrongPIN), allowLastTry: true)
        }
        #expect(sim.triesLeft == 0)
        #expect(try await card.pinStatus() == .blocked)
        #expect(log.commands.last.map { $0.data.isEmpty } == true)

        card.channel.resetStatistics()
        await #expect(throws: CardCredentialsError.pinBlocked) {
            try await card.verifyPIN(try ICCardFixture.pin(), allowLastTry: true)
        }
        #expect(card.channel.statistics.apdusSent == 1, "the query said blocked: no VERIFY")
        await #expect(throws: CardCredentialsError.pinBlocked) {
            _ = try await card.signingKey(pin: try ICCardFixture.pin(), allowLastTry: true)
        }
        await #expect(throws: CardCredentialsError.pinBlocked) {
            _ = try await card.signDigestInfo(Self.abcDigestInfo, pin: try ICCardFixture.pin(), allowLastTry: true)
        }
        #expect(!sim.isVerified)
        #expect(CardCredentialsError.pinBlocked.description.contains("閉塞"))
    }

    @Test("a PIN of the wrong form is refused before any APDU: too short, too long, or made for another policy")
    func badPINFormat() async throws {
        let fixture = try ICCardFixture.get()
        let (sim, card) = try await fixture.client()
        let policy = ICCardProfile.procurementIdentitySimulator.pinPolicy
        let loose = PINPolicy.password(length: 1...64)
        for text in ["abc", String(repeating: "A", count: 17)] {
            let pin = try SecretPIN(text, policy: loose)
            let error = await #expect(throws: CardCredentialsError.self) { try await card.verifyPIN(pin) }
            guard case .pinFormat(let problem)? = error else {
                Issue.record("expected pinFormat, got \(String(describing: error))")
                continue
            }
            #expect(problem.description.contains(policy.name))
            await #expect(throws: CardCredentialsError.pinFormat(problem)) {
                _ = try await card.signingKey(pin: pin, allowLastTry: true)
            }
            await #expect(throws: CardCredentialsError.pinFormat(problem)) {
                _ = try await card.signDigestInfo(Self.abcDigestInfo, pin: pin)
            }
        }
        #expect(throws: CardCredentialsError.self) { _ = try SecretPIN("パスワード1234", policy: policy) }
        #expect(throws: CardCredentialsError.self) { _ = try SecretPIN("123", policy: policy) }
        #expect(card.channel.statistics.apdusSent == 0)
        #expect(sim.triesLeft == 10)
    }

    // MARK: Signatures

    @Test("signingKey verifies the PIN; its signatures are 00 2A 9E 9A over the DigestInfo and verify")
    func signAndVerify() async throws {
        let fixture = try ICCardFixture.get()
        let log = APDULog()
        let (sim, card) = try await fixture.client(tracer: log.tracer)
        let key = try await card.signingKey(pin: try ICCardFixture.pin())
        #expect(sim.isVerified)
        #expect(key.certificate == (try Certificate(derEncoded: fixture.snapshot.holderCertificate)))
        #expect(key.chain == [try Certificate(derEncoded: fixture.snapshot.caCertificate)])

        let message = Array("入札書 2026-001".utf8)
        for algorithm in [SigningAlgorithm.rsaPKCS1SHA256, .rsaPKCS1SHA512] {
            card.channel.resetStatistics()
            let signature = try await key.sign(message, algorithm: algorithm)
            #expect(card.channel.statistics.apdusSent == 1, "verified in this session: only the signature")
            #expect(signature.count == 256)
            #expect(
                key.certificate.publicKey.isValidSignature(
                    signature, for: message, signatureAlgorithm: algorithm.certificateSignatureAlgorithm))
            #expect(
                !key.certificate.publicKey.isValidSignature(
                    signature, for: message + [0], signatureAlgorithm: algorithm.certificateSignatureAlgorithm))
            let sign = try #require(log.commands.last)
            #expect([sign.cla, sign.ins, sign.p1, sign.p2] == [0x00, 0x2A, 0x9E, 0x9A])
            #expect(sign.data == DigestInfo(hashing: message, with: algorithm.digest).derEncoded)
            #expect(sign.expectedLength == 256)
        }
    }

    @Test("after a reset or another program's SELECT the key verifies the PIN again; without a PIN, pinNotVerified")
    func signAfterReset() async throws {
        let fixture = try ICCardFixture.get()
        let (sim, card) = try await fixture.client()
        let key = try await card.signingKey(pin: try ICCardFixture.pin())
        sim.handle(.reset)
        await card.forgetSession()
        let signature = try await key.sign(Array("abc".utf8), algorithm: .rsaPKCS1SHA256)
        #expect(
            key.certificate.publicKey.isValidSignature(
                signature, for: Array("abc".utf8), signatureAlgorithm: .sha256WithRSAEncryption))

        // Another program selected the application again behind this client's back, which ended the PIN
        // session: the card's 69 82 makes the key verify again.
        let select = sim.respond(to: [0x00, 0xA4, 0x04, 0x0C, 0x08] + PrivateCAICCard.aid)
        #expect(select == [0x90, 0x00])
        #expect(!sim.isVerified)
        let again = try await key.sign(Array("abc".utf8), algorithm: .rsaPKCS1SHA256)
        #expect(again == signature, "PKCS#1 v1.5 is deterministic")

        sim.handle(.reset)
        await card.forgetSession()
        await #expect(throws: CardCredentialsError.pinNotVerified) {
            _ = try await card.signDigestInfo(Self.abcDigestInfo)
        }
        #expect(sim.triesLeft == 10)
    }

    @Test("the card's answers to COMPUTE DIGITAL SIGNATURE: empty, corrupted, blocked, refused")
    func signatureAnswers() async throws {
        let fixture = try ICCardFixture.get()
        let faults = FaultInjector()
        let (_, card) = try await fixture.client(faults: faults)
        let key = try await card.signingKey(pin: try ICCardFixture.pin())
        let message = Array("abc".utf8)
        let isSignature: @Sendable (CommandAPDU) -> Bool = { $0.ins == 0x2A }

        faults.arm(.statusWord(.success), matching: isSignature)
        let empty = await #expect(throws: CardCredentialsError.self) {
            _ = try await key.sign(message, algorithm: .rsaPKCS1SHA256)
        }
        guard case .malformedCardAnswer? = empty else {
            Issue.record("expected malformedCardAnswer, got \(String(describing: empty))")
            return
        }
        faults.arm(.corruptResponse, matching: isSignature)
        await #expect(throws: CardCredentialsError.cardSignatureInvalid) {
            _ = try await key.sign(message, algorithm: .rsaPKCS1SHA256)
        }
        faults.arm(.statusWord(.authenticationMethodBlocked), matching: isSignature)
        await #expect(throws: CardCredentialsError.pinBlocked) {
            _ = try await key.sign(message, algorithm: .rsaPKCS1SHA256)
        }
        faults.arm(.statusWord(.incorrectP1P2), matching: isSignature)
        await #expect(
            throws: CardCredentialsError.unexpectedCardStatus(.incorrectP1P2, operation: "COMPUTE DIGITAL SIGNATURE")
        ) {
            _ = try await key.sign(message, algorithm: .rsaPKCS1SHA256)
        }
        // The card itself was fine all along.
        _ = try await key.sign(message, algorithm: .rsaPKCS1SHA256)
    }

    @Test("a blocked-PIN status word the profile lists counts as blocked; one it does not list is unexpected")
    func profileBlockedStatusWords() async throws {
        let slot = SimulatedSlot()
        slot.insert(CardWithOddBlockedStatus())
        var profile = ICCardProfile.procurementIdentitySimulator
        profile.blockedPINStatusWords = [StatusWord(0x6900)]
        let listing = ICCard(transport: try await slot.connect(), profile: profile)
        #expect(try await listing.pinStatus() == .blocked)
        await #expect(throws: CardCredentialsError.pinBlocked) {
            try await listing.verifyPIN(try ICCardFixture.pin(), allowLastTry: true)
        }

        let standard = ICCard(transport: try await slot.connect(), profile: .procurementIdentitySimulator)
        await #expect(
            throws: CardCredentialsError.unexpectedCardStatus(StatusWord(0x6900), operation: "the PIN status query")
        ) {
            _ = try await standard.pinStatus()
        }
    }

    @Test("an operation made with the card signs through CardKey like any other Signer")
    func explicitOperation() async throws {
        let fixture = try ICCardFixture.get()
        let (_, card) = try await fixture.client()
        try await card.verifyPIN(try ICCardFixture.pin())
        let key = try CardKey(
            certificate: try await card.certificate(), operation: ICCardSigningOperation(card: card, pin: nil))
        let signature = try await key.sign(Array("abc".utf8), algorithm: .rsaPKCS1SHA384)
        #expect(
            key.certificate.publicKey.isValidSignature(
                signature, for: Array("abc".utf8), signatureAlgorithm: .sha384WithRSAEncryption))
    }

    @Test("the profile article's code: its profile refuses the simulator's card; with the simulator's facts, it reads")
    func articleProfile() async throws {
        let fixture = try ICCardFixture.get()
        let slot = SimulatedSlot()
        let sim = try fixture.card()
        slot.insert(sim)
        let error = await #expect(throws: CardCredentialsError.self) {
            _ = try await signBid(Array("abc".utf8), typedPIN: "ABCD1234", connection: try await slot.connect())
        }
        guard case .notThisCard(let profile, _)? = error else {
            Issue.record("expected notThisCard, got \(String(describing: error))")
            return
        }
        #expect(profile == "Example CA's e-bidding IC card")
        #expect(sim.triesLeft == 10)

        var adapted = ICCardProfile.exampleCA
        adapted.applicationID = PrivateCAICCard.aid
        adapted.holderCertificateFileID = PrivateCAICCard.holderCertificateFID
        adapted.caCertificateFileID = PrivateCAICCard.caCertificateFID
        adapted.pinPolicy = .privateCA(length: 4...16, allowedCharacters: .printableASCII, maximumTries: 10)
        adapted.blockedPINStatusWords = [.authenticationMethodBlocked]
        let card = ICCard(transport: try await slot.connect(), profile: adapted)
        #expect(try await card.certificateDER() == fixture.snapshot.holderCertificate)
        let key = try await card.signingKey(pin: try SecretPIN(ICCardFixture.pin, policy: adapted.pinPolicy))
        _ = try await key.sign(Array("abc".utf8), algorithm: .rsaPKCS1SHA256)
    }

    /// The DigestInfo of SHA-256("abc").
    static let abcDigestInfo = DigestInfo(hashing: Array("abc".utf8), with: .sha256).derEncoded
}

// MARK: - The code of the article ICCardProfiles.md, as written

extension ICCardProfile {
    /// Example CA's e-bidding IC card, from the CA's card specification.
    static let exampleCA = ICCardProfile(
        name: "Example CA's e-bidding IC card",
        applicationID: [0xD3, 0x92, 0x00, 0x00, 0x99, 0x01, 0x01],
        holderCertificateFileID: 0x2F01,
        caCertificateFileID: 0x2F02,
        pinReference: 0x81,
        pinPolicy: .privateCA(length: 4...8, allowedCharacters: .lettersAndDigits, maximumTries: 5),
        blockedPINStatusWords: [.referenceDataNotUsable],
        signatureP1: 0x9E, signatureP2: 0x9A,
        extendedLength: .unknown)
}

func signBid(_ document: [UInt8], typedPIN: String, connection: any CardTransport) async throws -> [UInt8] {
    // Refused here, before any byte reaches the card, when the PIN has the wrong form.
    let pin = try SecretPIN(typedPIN, policy: ICCardProfile.exampleCA.pinPolicy)
    // One APDU: SELECT of the profile's application. Another CA's card fails here with notThisCard.
    let card = try await ICCard.connect(transport: connection, profile: .exampleCA)
    let certificate = try await card.certificate()  // SELECT EF, READ BINARY
    print(CertificateSummary(certificate).labeledFields.map(\.value))
    // Tries-left query, VERIFY (never the last try unless allowLastTry), then a CardKey.
    let key = try await card.signingKey(pin: pin)
    return try await key.sign(document, algorithm: .rsaPKCS1SHA256)  // checked against the certificate
}
