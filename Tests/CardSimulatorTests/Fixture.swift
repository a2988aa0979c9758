import CardSimulator
import Foundation
import ISO7816
import X509

/// Keys and certificates made once per test run (RSA key generation and certificate signing are slow in debug
/// builds); each test makes fresh cards from these snapshots so PIN counters never leak between tests.
struct Fixture: Sendable {
    static let signingPIN = "TEST123"
    static let authenticationPIN = "1234"
    static let icCardPIN = "PASS5678"

    let directory: URL
    let authority: TestCertificateAuthority
    let jpki: JPKICard.Snapshot
    let icCard: PrivateCAICCard.Snapshot

    static let shared: Result<Fixture, any Error> = Result { try Fixture() }

    static func get() throws -> Fixture { try shared.get() }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "card-simulator-tests-\(UUID().uuidString)")
        authority = try TestCertificateAuthority(directory: directory)
        jpki = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: Self.signingPIN, authenticationPIN: Self.authenticationPIN
        ).snapshot
        icCard = try PrivateCAICCard.issue(by: authority, holder: .example, pin: Self.icCardPIN).snapshot
    }

    func jpkiCard(_ behavior: CardBehavior = CardBehavior()) throws -> JPKICard {
        try JPKICard(snapshot: jpki, behavior: behavior)
    }

    func privateCACard(_ behavior: CardBehavior = PrivateCAICCard.defaultBehavior) throws -> PrivateCAICCard {
        try PrivateCAICCard(snapshot: icCard, behavior: behavior)
    }
}

/// An in-process link to a virtual card, for `CardChannel`.
struct DirectLink: CardTransport {
    let card: any VirtualCard
    func transmit(_ command: [UInt8]) async throws -> [UInt8] { card.respond(to: command) }
}

/// Sends hex, returns the status word (and data).
extension VirtualCard {
    func send(_ hex: String) throws -> ResponseAPDU {
        try ResponseAPDU(bytes: respond(to: try Hex.decode(hex)))
    }

    func sw(_ hex: String) throws -> UInt16 { try send(hex).statusWord.rawValue }
}

let jpkiSelect = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
let textSupportSelect = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08"
let icSelect = "00 A4 04 0C 08 F0 50 52 4F 43 49 44 01"

func ascii(_ text: String) -> String { Hex.encode(Array(text.utf8)) }

/// DigestInfo for SHA-256 of "abc" (FIPS 180-2 test vector).
let abcDigestInfo =
    "30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20"
    + " BA 78 16 BF 8F 01 CF EA 41 41 40 DE 5D AE 22 23 B0 03 61 A3 96 17 7A 9C B4 10 FF 61 F2 00 15 AD"
