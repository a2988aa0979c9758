import CardSimulator
import Foundation
import ISO7816
import JPKI

/// Keys and certificates made once per test run (RSA key generation is slow in debug builds); each test makes a
/// fresh card from the snapshot so PIN counters never leak between tests.
struct Fixture: Sendable {
    static let signingPIN = "TEST123"
    static let authenticationPIN = "1234"
    static let textInputSupportPIN = "5678"

    let directory: URL
    let authority: TestCertificateAuthority
    let snapshot: JPKICard.Snapshot

    static let shared: Result<Fixture, any Error> = Result { try Fixture() }

    static func get() throws -> Fixture { try shared.get() }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "jpki-tests-\(UUID().uuidString)")
        authority = try TestCertificateAuthority(directory: directory)
        snapshot = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: Self.signingPIN, authenticationPIN: Self.authenticationPIN,
            textInputSupportPIN: Self.textInputSupportPIN
        ).snapshot
    }

    /// A fresh card with the fixture's contents.
    func card(_ behavior: CardBehavior = CardBehavior()) throws -> JPKICard {
        try JPKICard(snapshot: snapshot, behavior: behavior)
    }

    /// A card in a simulated slot and a client connected to it (nothing sent yet).
    func client(
        _ behavior: CardBehavior = CardBehavior(), extendedLength: CardChannel.ExtendedLengthSupport = .unknown,
        faults: FaultInjector = FaultInjector()
    ) async throws -> (JPKICard, SimulatedSlot, MyNumberCard) {
        let card = try card(behavior)
        let slot = SimulatedSlot(faults: faults)
        slot.insert(card)
        let connection = try await slot.connect()
        return (card, slot, MyNumberCard(transport: connection, extendedLength: extendedLength))
    }
}
