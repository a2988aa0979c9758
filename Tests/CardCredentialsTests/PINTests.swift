import Foundation
import ISO7816
import Testing

@testable import CardCredentials

/// A card with one PIN and a retry counter, answering the status query and VERIFY like a JPKI card; it records
/// every APDU.
actor FakePINCard: CardTransport {
    private let pin: [UInt8]
    private(set) var triesLeft: Int
    private let blockedStatus: UInt16
    var verified = false
    var answersVerifiedQueryWith9000 = false
    private(set) var commands: [[UInt8]] = []

    init(pin: String, triesLeft: Int, blockedStatus: UInt16 = 0x6984) {
        self.pin = Array(pin.utf8)
        self.triesLeft = triesLeft
        self.blockedStatus = blockedStatus
    }

    func setAnswersVerifiedQueryWith9000() { answersVerifiedQueryWith9000 = true }

    func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        commands.append(command)
        guard command.count >= 4, command[0] == 0x00, command[1] == 0x20, command[3] == 0x80 else {
            return [0x6D, 0x00]
        }
        if command.count == 4 {
            if verified && answersVerifiedQueryWith9000 { return [0x90, 0x00] }
            if triesLeft == 0 { return [UInt8(blockedStatus >> 8), UInt8(blockedStatus & 0xFF)] }
            return [0x63, 0xC0 | UInt8(triesLeft)]
        }
        if triesLeft == 0 { return [UInt8(blockedStatus >> 8), UInt8(blockedStatus & 0xFF)] }
        let data = Array(command[5...])
        guard Int(command[4]) == data.count else { return [0x67, 0x00] }
        if data == pin {
            verified = true
            triesLeft = 3
            return [0x90, 0x00]
        }
        triesLeft -= 1
        return [0x63, 0xC0 | UInt8(triesLeft)]
    }
}

@Suite struct PINPolicyTests {
    @Test func jpkiAuthenticationPINIsFourDigits() throws {
        let pin = try SecretPIN("1234", policy: .jpkiAuthentication)
        #expect(pin.count == 4)
        #expect(throws: CardCredentialsError.pinFormat(.tooShort(policy: "the user-authentication PIN", minimum: 4))) {
            try SecretPIN("123", policy: .jpkiAuthentication)
        }
        #expect(throws: CardCredentialsError.pinFormat(.tooLong(policy: "the user-authentication PIN", maximum: 4))) {
            try SecretPIN("12345", policy: .jpkiAuthentication)
        }
        #expect(
            throws: CardCredentialsError.pinFormat(
                .disallowedCharacter(policy: "the user-authentication PIN", position: 3, allowed: "digits 0–9"))
        ) {
            try SecretPIN("12a4", policy: .jpkiAuthentication)
        }
        #expect(throws: CardCredentialsError.pinFormat(.empty(policy: "the user-authentication PIN"))) {
            try SecretPIN("", policy: .jpkiAuthentication)
        }
    }

    @Test func signingPINIsUpperCasedAndRestricted() throws {
        let pin = try SecretPIN("abc123", policy: .jpkiSigning)
        #expect(pin.withUnsafeBytes { Array($0) } == Array("ABC123".utf8))
        #expect(try SecretPIN("ABCDEFGH12345678", policy: .jpkiSigning).count == 16)
        #expect(throws: CardCredentialsError.self) { try SecretPIN("ABC12", policy: .jpkiSigning) }
        #expect(throws: CardCredentialsError.self) { try SecretPIN("ABCDEFGH123456789", policy: .jpkiSigning) }
        // Symbols, spaces and full-width characters are refused, never converted.
        for bad in ["ABC-123", "ABC 123", "ＡＢＣ１２３", "ABCあ123", "abc12é"] {
            #expect(throws: CardCredentialsError.self) { try SecretPIN(bad, policy: .jpkiSigning) }
        }
    }

    @Test func textInputSupportAndPrivateCAAndPasswordPolicies() throws {
        #expect(try SecretPIN("0000", policy: .textInputSupport).count == 4)
        #expect(throws: CardCredentialsError.self) { try SecretPIN("00000", policy: .textInputSupport) }
        let ca = PINPolicy.privateCA(length: 4...8, maximumTries: 10)
        #expect(try SecretPIN("12345678", policy: ca).count == 8)
        #expect(throws: CardCredentialsError.self) { try SecretPIN("123456789", policy: ca) }
        let alnum = PINPolicy.privateCA(length: 6...12, allowedCharacters: .lettersAndDigits)
        #expect(try SecretPIN("Abc123", policy: alnum).withUnsafeBytes { Array($0) } == Array("Abc123".utf8))
        let password = PINPolicy.password(length: 8...64)
        #expect(try SecretPIN("p@ss-w0rd!", policy: password).count == 10)
        #expect(try SecretPIN("pass word", policy: password).count == 9)
        #expect(throws: CardCredentialsError.self) { try SecretPIN("pass\tword", policy: password) }
        #expect(throws: CardCredentialsError.self) { try SecretPIN("パスワード12", policy: password) }
        let custom = PINCharacterSet(characters: "ABC", name: "A, B or C")
        #expect(custom.contains(0x41) && !custom.contains(0x44) && !custom.contains(0xC3))
    }

    /// The caller's array is emptied (its storage zeroed first, which a test cannot observe once it is freed).
    @Test func bytesAreWipedFromTheCallersArray() throws {
        var typed = Array("9876".utf8)
        let pin = try SecretPIN(wiping: &typed, policy: .jpkiAuthentication)
        #expect(typed.isEmpty)
        #expect(pin.withUnsafeBytes { Array($0) } == Array("9876".utf8))
        var bad = Array("98x6".utf8)
        #expect(throws: CardCredentialsError.self) { try SecretPIN(wiping: &bad, policy: .jpkiAuthentication) }
        #expect(bad.isEmpty)
    }

    @Test func equalityComparesContents() throws {
        let a = try SecretPIN("ABC123", policy: .jpkiSigning)
        #expect(a.isEqual(to: try SecretPIN("abc123", policy: .jpkiSigning)))
        #expect(!a.isEqual(to: try SecretPIN("ABC124", policy: .jpkiSigning)))
        #expect(!a.isEqual(to: try SecretPIN("ABC1234", policy: .jpkiSigning)))
    }

    @Test func nothingRevealsTheDigits() throws {
        let pin = try SecretPIN("4821", policy: .jpkiAuthentication)
        var dumped = ""
        dump(pin, to: &dumped)
        let mirror = Mirror(reflecting: pin).children.map { "\($0.label ?? ""): \($0.value)" }.joined()
        let texts = [
            pin.description, pin.debugDescription, "\(pin)", String(describing: pin), String(reflecting: pin),
            dumped, mirror, "\([pin])", "\(Optional(pin) as Any)",
        ]
        for text in texts {
            for part in ["4821", "482", "821"] {
                #expect(!text.contains(part), "part of the PIN leaked in \(text)")
            }
        }
        #expect(pin.description == "<redacted>")
        #expect(dumped.contains("<redacted>"))
        // Errors name the rule, never the characters.
        do {
            _ = try SecretPIN("48219", policy: .jpkiAuthentication)
            Issue.record("a 5-digit PIN was accepted")
        } catch {
            #expect(!"\(error)".contains("4821"))
            #expect("\(error)".contains("at most 4"))
        }
        do {
            _ = try SecretPIN("48#1", policy: .jpkiAuthentication)
            Issue.record("a PIN with a symbol was accepted")
        } catch {
            #expect(!"\(error)".contains("48"))
            #expect("\(error)".contains("character 3"))
        }
    }
}

@Suite struct PINVerifierTests {
    @Test func rightPINTakesTwoAPDUsWithThePINOnTheWire() async throws {
        let card = FakePINCard(pin: "ABC123", triesLeft: 5)
        let verifier = PINVerifier(channel: CardChannel(transport: card), policy: .jpkiSigning)
        try await verifier.verify(try SecretPIN("abc123", policy: .jpkiSigning))
        let commands = await card.commands
        #expect(commands.count == 2)
        #expect(commands.first == [0x00, 0x20, 0x00, 0x80])
        #expect(commands.last == [0x00, 0x20, 0x00, 0x80, 0x06] + Array("ABC123".utf8))
        #expect(await card.verified)
    }

    @Test func wrongPINReportsTriesLeft() async throws {
        let card = FakePINCard(pin: "1234", triesLeft: 3)
        let verifier = PINVerifier(channel: CardChannel(transport: card), policy: .jpkiAuthentication)
        await #expect(throws: CardCredentialsError.wrongPIN(triesLeft: 2)) {
            try await verifier.verify(try SecretPIN("9999", policy: .jpkiAuthentication))
        }
        #expect(try await verifier.status() == .triesLeft(2))
        #expect(await card.commands.count == 3)
    }

    @Test func lastTryIsRefusedUnlessAllowed() async throws {
        let card = FakePINCard(pin: "1234", triesLeft: 1)
        let verifier = PINVerifier(channel: CardChannel(transport: card), policy: .jpkiAuthentication)
        await #expect(throws: CardCredentialsError.lastTryRefused) {
            try await verifier.verify(try SecretPIN("1234", policy: .jpkiAuthentication))
        }
        #expect(await card.commands.count == 1)  // only the status query
        #expect(await !card.verified)
        try await verifier.verify(try SecretPIN("1234", policy: .jpkiAuthentication), allowLastTry: true)
        #expect(await card.verified)
        #expect(await card.commands.count == 3)
    }

    @Test func wrongLastTryBlocksThePIN() async throws {
        let card = FakePINCard(pin: "1234", triesLeft: 1)
        let verifier = PINVerifier(channel: CardChannel(transport: card), policy: .jpkiAuthentication)
        await #expect(throws: CardCredentialsError.pinBlocked) {
            try await verifier.verify(try SecretPIN("0000", policy: .jpkiAuthentication), allowLastTry: true)
        }
        #expect(try await verifier.status() == .blocked)
        // A blocked PIN is not tried again: only the status query goes out.
        await #expect(throws: CardCredentialsError.pinBlocked) {
            try await verifier.verify(try SecretPIN("1234", policy: .jpkiAuthentication), allowLastTry: true)
        }
        #expect(await card.commands.count == 4)
    }

    @Test(arguments: [UInt16(0x6983), 0x6984, 0x63C0])
    func blockedStatusWords(_ statusWord: UInt16) async throws {
        #expect(PINStatus(statusWord: StatusWord(statusWord)) == .blocked)
        let card = FakePINCard(pin: "1234", triesLeft: 0, blockedStatus: statusWord)
        let verifier = PINVerifier(channel: CardChannel(transport: card), policy: .jpkiAuthentication)
        await #expect(throws: CardCredentialsError.pinBlocked) {
            try await verifier.verify(try SecretPIN("1234", policy: .jpkiAuthentication))
        }
        #expect(await card.commands.count == 1)
    }

    @Test func alreadyVerifiedCardStillChecksThePIN() async throws {
        let card = FakePINCard(pin: "1234", triesLeft: 3)
        await card.setAnswersVerifiedQueryWith9000()
        let verifier = PINVerifier(channel: CardChannel(transport: card), policy: .jpkiAuthentication)
        try await verifier.verify(try SecretPIN("1234", policy: .jpkiAuthentication))
        #expect(try await verifier.status() == .verified)
        await #expect(throws: CardCredentialsError.wrongPIN(triesLeft: 2)) {
            try await verifier.verify(try SecretPIN("1111", policy: .jpkiAuthentication))
        }
    }

    @Test func pinOfTheWrongFormNeverReachesTheCard() async throws {
        let card = FakePINCard(pin: "ABC123", triesLeft: 5)
        let verifier = PINVerifier(channel: CardChannel(transport: card), policy: .jpkiSigning)
        // Made under a looser policy, the PIN is checked against the card's policy before anything is sent.
        let loose = try SecretPIN("abc-1", policy: .password())
        await #expect(throws: CardCredentialsError.self) { try await verifier.verify(loose) }
        #expect(await card.commands.isEmpty)
    }

    @Test func unexpectedStatusIsReported() async throws {
        actor Silent: CardTransport {
            func transmit(_ command: [UInt8]) async throws -> [UInt8] { [0x6A, 0x82] }
        }
        let verifier = PINVerifier(channel: CardChannel(transport: Silent()), policy: .jpkiAuthentication)
        do {
            try await verifier.verify(try SecretPIN("1234", policy: .jpkiAuthentication))
            Issue.record("no error")
        } catch let error as CardCredentialsError {
            guard case .unexpectedCardStatus(let sw, _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(sw == .fileNotFound)
        }
    }

    @Test func errorDescriptionsSayWhatToDo() {
        #expect(CardCredentialsError.wrongPIN(triesLeft: 2).description.contains("2 tries are left"))
        #expect(CardCredentialsError.pinBlocked.description.contains("閉塞"))
        #expect(CardCredentialsError.lastTryRefused.description.contains("allowing the last try"))
        #expect(PINStatus.triesLeft(1).description == "1 try left")
    }
}
