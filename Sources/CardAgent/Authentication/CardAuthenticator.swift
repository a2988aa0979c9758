public import CardCredentials
import ISO7816
public import JPKI
import PCSC
import Synchronization

/// The authentication operation: signs a portal's challenge for the origin the agent checked, with the card in
/// a reader — a My Number card's user-authentication key (JPKI), or a private-CA IC card (`ICCard`).
///
/// In order: the first reader holding a card the agent knows is chosen (a My Number card's key by the challenge's
/// purpose: ``jpkiKey(for:)``); the PIN's tries left are read before
/// anything is asked (a blocked PIN fails at once, without a dialog; with one try left the person must allow
/// the last try in a consent dialog); the PIN is asked through the dialogs, naming the origin, the operation and
/// the tries left; the card verifies it and signs `EvidenceChallenge.signedBytes(origin:certificate:)`. One
/// request at a time per reader.
///
/// ```swift
/// let evidence = try await authenticator.authenticate(challenge, for: origin)
/// ```
public final class CardAuthenticator: Sendable {
    /// Where PINs and consents are asked.
    public let dialogs: any PINDialogs
    /// The profile of the private-CA IC cards the agent accepts besides My Number cards.
    public let icCardProfile: ICCardProfile
    private let locks = Mutex<[String: AsyncLock]>([:])

    /// Runs `body` holding the reader's lock: one operation at a time per reader (and so per card).
    func withReader<T>(_ reader: String, _ body: () async throws -> T) async throws -> T {
        let lock = locks.withLock { locks in
            if let lock = locks[reader] { return lock }
            let lock = AsyncLock()
            locks[reader] = lock
            return lock
        }
        try await lock.lock()
        defer { lock.unlock() }
        return try await body()
    }

    /// An authenticator that asks through `dialogs`.
    public init(dialogs: any PINDialogs, icCardProfile: ICCardProfile = .procurementIdentitySimulator) {
        self.dialogs = dialogs
        self.icCardProfile = icCardProfile
    }

    /// Signs `challenge` for `origin` (the `Origin` the policy checked) and returns the evidence.
    ///
    /// - Throws: ``AgentError``: ``AgentError/Code-swift.struct/noCard``, ``AgentError/Code-swift.struct/cardRemoved``,
    ///   ``AgentError/Code-swift.struct/readerGone``, ``AgentError/Code-swift.struct/pcscUnavailable``,
    ///   ``AgentError/Code-swift.struct/wrongPIN`` (with the tries left), ``AgentError/Code-swift.struct/pinBlocked``,
    ///   ``AgentError/Code-swift.struct/lastTryRefused``, ``AgentError/Code-swift.struct/cancelled``, or a dialog's
    ///   error.
    public func authenticate(_ challenge: EvidenceChallenge, for origin: PortalOrigin) async throws(AgentError)
        -> CardEvidence
    {
        do {
            let context = try PCSCContext()
            let readers = try await context.readerStatuses().filter(\.isCardPresent).map(\.name).sorted()
            guard !readers.isEmpty else { throw Self.noCard }
            for reader in readers {
                let evidence = try await withReader(reader) {
                    try await authenticate(challenge, for: origin, context: context, reader: reader)
                }
                if let evidence { return evidence }
            }
            throw Self.noCard
        } catch {
            throw Self.agentError(error)
        }
    }

    /// Signs with the card in `reader`, or returns nil when it is neither a My Number card nor an IC card of the
    /// profile.
    private func authenticate(
        _ challenge: EvidenceChallenge, for origin: PortalOrigin, context: PCSCContext, reader: String
    ) async throws -> CardEvidence? {
        let connection = try await context.connect(to: reader)
        do {
            let evidence = try await sign(challenge, for: origin, connection: connection)
            await connection.disconnect()
            return evidence
        } catch {
            await connection.disconnect()
            throw error
        }
    }

    private func sign(_ challenge: EvidenceChallenge, for origin: PortalOrigin, connection: PCSCCard)
        async throws -> CardEvidence?
    {
        let purpose = challenge.purpose
        let jpkiKey = Self.jpkiKey(for: purpose)
        let pin = jpkiKey.pin
        if let found = try await Self.myNumberCard(on: connection, pin: pin) {
            let (card, status) = (found.card, found.status)
            let secret = try await askPIN(
                status: status, origin: origin, operation: DialogText.operation(purpose), pinName: pin.description,
                card: "My Number card (マイナンバーカード)", policy: pin.policy)
            let key = try await card.signingKey(jpkiKey, pin: secret.pin, allowLastTry: secret.lastTry)
            return try await challenge.sign(for: origin, with: key)
        }
        guard let card = try? await ICCard.connect(transport: connection, profile: icCardProfile) else { return nil }
        let status = try await card.pinStatus()
        let secret = try await askPIN(
            status: status, origin: origin, operation: DialogText.operation(purpose),
            pinName: "the IC card's PIN (PIN番号)",
            card: "IC card (\(icCardProfile.name))", policy: icCardProfile.pinPolicy)
        let key = try await card.signingKey(pin: secret.pin, allowLastTry: secret.lastTry)
        return try await challenge.sign(for: origin, with: key)
    }

    /// The My Number card's key that signs evidence for `purpose`: the signing key (署名用電子証明書) where the portal
    /// registered the signing certificate and the step reads it — the certificate update without login
    /// (電子証明書更新) and the power of attorney's renewal (電子委任状更新); the user-authentication key everywhere else
    /// (login, the agent deletion's JPKI pairing).
    public static func jpkiKey(for purpose: EvidencePurpose) -> JPKIKey {
        switch (purpose.flow, purpose.step) {
        case ("certificate-update", _), ("power-of-attorney", "renewal-card"): .signing
        default: .authentication
        }
    }

    /// The card on `connection` as a My Number card, with the status of `pin`: recognised, as `jpki pin-status`
    /// recognises it, by its JPKI application's answer to SELECT (the token label would cost two more APDUs); nil
    /// for another card. A card pulled or a reader gone is thrown.
    static func myNumberCard(on connection: PCSCCard, pin: JPKIPIN) async throws -> (
        card: MyNumberCard, status: PINStatus
    )? {
        let card = MyNumberCard(transport: connection)
        let status: PINStatus
        do {
            status = try await card.pinStatus(pin)
        } catch {
            if error.code == .notAMyNumberCard || error.code == .unexpectedStatus { return nil }
            throw error
        }
        return (card, status)
    }

    /// Reads the status first: blocked → an error without a dialog; one try left → the consent dialog first.
    func askPIN(
        status: PINStatus, origin: PortalOrigin, operation: String, pinName: String, card: String,
        policy: PINPolicy
    ) async throws(AgentError) -> (pin: SecretPIN, lastTry: Bool) {
        var triesLeft: Int?
        switch status {
        case .blocked:
            throw AgentError(
                .pinBlocked,
                "\(pinName) is blocked (閉塞) after too many wrong tries; no PIN was asked. Have the card's PIN reset "
                    + "(a My Number card at your municipality office (市区町村窓口), an IC card by its CA), then try again.")
        case .triesLeft(let n): triesLeft = n
        case .verified: triesLeft = nil
        }
        let lastTry = triesLeft == 1
        if lastTry {
            do {
                try await dialogs.confirm(
                    DialogText.lastTry(origin: origin, operation: operation, pinName: pinName, card: card))
            } catch  where error.code == .cancelled {
                throw AgentError(
                    .lastTryRefused,
                    "Only one try is left for \(pinName), and the last try was not allowed, so no PIN was sent; make "
                        + "sure of the PIN, then try again and allow the last try (a wrong PIN then blocks it (閉塞)).")
            }
        }
        let pin = try await dialogs.askPIN(
            DialogText.pin(
                origin: origin, operation: operation, pinName: pinName, card: card, triesLeft: triesLeft,
                policy: policy))
        return (pin, lastTry)
    }

    static let noCard = AgentError(
        .noCard, "No reader holds a My Number card or an IC card the agent knows; insert the card and try again.",
        status: 404)

    /// The agent's error for anything the card, the reader or PC/SC threw.
    static func agentError(_ error: any Error) -> AgentError {
        if let error = error as? AgentError { return error }
        if let error = error as? PCSCError, error.code == .noReadersAvailable { return noCard }
        if error is CancellationError { return AgentError(.cancelled, "The request was cancelled.") }
        if let error = error as? JPKIError {
            switch error.code {
            case .wrongPIN:
                return AgentError(.wrongPIN, error.description, triesLeft: error.triesLeft)
            case .pinBlocked: return AgentError(.pinBlocked, error.description)
            case .lastTryRefused: return AgentError(.lastTryRefused, error.description)
            case .cancelled: return AgentError(.cancelled, error.description)
            default: break
            }
        }
        if let error = error as? CardCredentialsError {
            switch error {
            case .wrongPIN(let triesLeft):
                let tries = triesLeft == 1 ? "1 try is" : "\(triesLeft) tries are"
                return AgentError(
                    .wrongPIN,
                    "The card refused the IC card's PIN (PIN番号): \(tries) left before it is blocked (閉塞); enter it "
                        + "again.",
                    triesLeft: triesLeft)
            case .pinBlocked: return AgentError(.pinBlocked, error.description)
            case .lastTryRefused: return AgentError(.lastTryRefused, error.description)
            default: break
            }
        }
        let credentialsFailure: CardTransportFailure? =
            switch error as? CardCredentialsError {
            case .cardRemoved?: .cardRemoved
            case .cardReset?: .cardReset
            case .cardUnavailable(let failure)?: failure
            default: nil
            }
        switch (error as? JPKIError)?.failure ?? credentialsFailure ?? error.cardTransportFailure {
        case .cardRemoved?, .cardReset?:
            return AgentError(
                .cardRemoved, "The card was removed from the reader during the operation; insert it and try again.")
        case .readerUnavailable?:
            return AgentError(.readerGone, "The card reader went away during the operation; plug it in and try again.")
        case .serviceUnavailable?:
            return AgentError(
                .pcscUnavailable,
                "The smart card service (pcscd) cannot be reached; start it (systemctl start pcscd) and try again.",
                status: 503)
        default:
            if let error = error as? PCSCError, error.code == .noSmartcard || error.code == .removedCard {
                return AgentError(
                    .cardRemoved, "The card was removed from the reader; insert it and try again.")
            }
            return AgentError(.cardFailure, "The card failed: \(error)", status: 500)
        }
    }
}
