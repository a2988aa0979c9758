public import CardCredentials
import Foundation
import ISO7816
import JPKI
import PCSC
import Synchronization

/// A reader as `GET /v1/cards` lists it: its name and the card in it, if any.
public struct AgentReader: Sendable, Hashable, Codable {
    /// The reader's name, as PC/SC lists it.
    public var name: String
    /// The card in the reader; nil when the reader is empty.
    public var card: AgentCard?

    /// A reader from its parts.
    public init(name: String, card: AgentCard?) {
        self.name = name
        self.card = card
    }
}

/// A card in a reader: what it is and the certificates it shows without a PIN.
public struct AgentCard: Sendable, Hashable, Codable {
    /// What kind of card it is.
    /// (Codable as its name alone: the standard library's coding of a `RawRepresentable` with a `String` raw value.)
    public struct Kind: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
        /// The kind's name, as the JSON answer carries it.
        public let rawValue: String
        /// A kind from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { rawValue }

        /// A My Number card (マイナンバーカード): its JPKI user-authentication certificate and its CA's.
        public static let myNumberCard = Kind(rawValue: "myNumberCard")
        /// A private-CA IC card of the agent's profile: its certificate and its CA's.
        public static let icCard = Kind(rawValue: "icCard")
        /// A card the agent does not know; no certificates.
        public static let unknown = Kind(rawValue: "unknown")
    }

    /// What kind of card it is.
    public var kind: Kind
    /// The certificates readable without a PIN, DER in standard base64, the card's own first (a My Number card's
    /// signing certificate needs its PIN and is not among them).
    public var certificates: [String]
    /// The SHA-256 of the first certificate's DER in lower-case hex: which card this is, to tell two apart.
    public var fingerprint: String?

    /// A card from its parts.
    public init(kind: Kind, certificates: [String], fingerprint: String?) {
        self.kind = kind
        self.certificates = certificates
        self.fingerprint = fingerprint
    }
}

/// A document the page asks the agent to sign (`POST /v1/sign`).
public struct DocumentSigningRequest: Sendable, Hashable, Codable {
    /// The document's bytes in standard base64.
    public var document: String
    /// The document's name as the person knows it (shown in the dialog; at most 200 characters).
    public var name: String

    /// A request from its parts.
    public init(document: [UInt8], name: String) {
        self.document = Data(document).base64EncodedString()
        self.name = name
    }
}

/// The answer to a document signature: a detached CMS SignedData (RFC 5652) over the document, and the digest
/// the person was shown.
public struct DocumentSignature: Sendable, Hashable, Codable {
    /// The DER SignedData in standard base64, without the content (a `.p7s` beside the document).
    public var signature: String
    /// The document's SHA-256 in lower-case hex: what the dialog showed.
    public var digest: String
    /// The signer's certificate, DER in standard base64.
    public var certificate: String
}

/// How long the page lets the agent wait for the card swap (`POST /v1/swap`).
public struct SwapRequest: Sendable, Hashable, Codable {
    /// Seconds to wait, 1 to 600; 120 when absent.
    public var timeoutSeconds: Int?

    /// A request from its parts.
    public init(timeoutSeconds: Int? = nil) {
        self.timeoutSeconds = timeoutSeconds
    }
}

// The operations besides authentication: what a portal page needs of the cards.
extension CardAuthenticator {
    /// The readers and the cards in them, each card identified under its reader's lock.
    ///
    /// - Throws: ``AgentError``: ``AgentError/Code-swift.struct/pcscUnavailable`` and the card errors.
    public func readers() async throws(AgentError) -> [AgentReader] {
        do {
            let context = try PCSCContext()
            let statuses: [ReaderStatus]
            do {
                statuses = try await context.readerStatuses()
            } catch let error as PCSCError where error.code == .noReadersAvailable {
                return []
            }
            var readers: [AgentReader] = []
            for status in statuses.sorted(by: { $0.name < $1.name }) {
                guard status.isCardPresent else {
                    readers.append(AgentReader(name: status.name, card: nil))
                    continue
                }
                let card = try await withReader(status.name) {
                    try await identify(context: context, reader: status.name)
                }
                readers.append(AgentReader(name: status.name, card: card))
            }
            return readers
        } catch {
            throw Self.agentError(error)
        }
    }

    /// Reads what a card shows without a PIN. A card that left meanwhile is nil.
    func identify(context: PCSCContext, reader: String) async throws -> AgentCard? {
        let connection: PCSCCard
        do {
            connection = try await context.connect(to: reader)
        } catch let error as PCSCError where error.code == .noSmartcard || error.code == .removedCard {
            return nil
        }
        defer { Task { await connection.disconnect() } }
        var certificates: [[UInt8]] = []
        let kind: AgentCard.Kind
        if let authentication = try await Self.myNumberCertificate(on: connection) {
            kind = .myNumberCard
            certificates = [
                authentication.certificate, try await authentication.card.certificateDER(.authenticationCA),
            ]
        } else if let card = try? await ICCard.connect(transport: connection, profile: icCardProfile) {
            kind = .icCard
            certificates = [try await card.certificateDER()]
            if let ca = try await card.caCertificateDER() { certificates.append(ca) }
        } else {
            kind = .unknown
        }
        return AgentCard(
            kind: kind, certificates: certificates.map { Data($0).base64EncodedString() },
            fingerprint: certificates.first.map { LowerHex.string(DigestAlgorithm.sha256.hash($0)) })
    }

    /// Whether `error` says the card was reset or left during the read: a card caught while it goes in or out.
    static func isSettling(_ error: any Error) -> Bool {
        [AgentError.Code.cardRemoved, .readerGone].contains(agentError(error).code)
    }

    /// A My Number card's user-authentication certificate (DER), read as `jpki certs` reads it; nil for another
    /// card.
    static func myNumberCertificate(on connection: PCSCCard) async throws -> (card: MyNumberCard, certificate: [UInt8])?
    {
        let card = MyNumberCard(transport: connection)
        let certificate: [UInt8]
        do {
            certificate = try await card.certificateDER(.authentication)
        } catch {
            if error.code == .notAMyNumberCard || error.code == .unexpectedStatus { return nil }
            throw error
        }
        return (card, certificate)
    }

    /// Signs a document with the card's signing key after the person saw its digest and agreed: a My Number
    /// card's signing key (署名用電子証明書, its signing PIN) or an IC card's key. A My Number card's
    /// user-authentication key never signs a document.
    ///
    /// - Parameters:
    ///   - document: The document's bytes.
    ///   - name: The document's name, shown in the dialog.
    ///   - origin: The origin the policy checked, shown in the dialogs.
    /// - Returns: A detached CMS SignedData with the signer's certificate and its CA certificate.
    /// - Throws: ``AgentError``: ``AgentError/Code-swift.struct/cancelled`` when the person did not agree, the PIN
    ///   and card errors of ``authenticate(_:for:)``.
    public func signDocument(_ document: [UInt8], name: String, for origin: PortalOrigin) async throws(AgentError)
        -> DocumentSignature
    {
        let digest = LowerHex.string(DigestAlgorithm.sha256.hash(document))
        do {
            let context = try PCSCContext()
            let readers = try await context.readerStatuses().filter(\.isCardPresent).map(\.name).sorted()
            for reader in readers {
                let signature = try await withReader(reader) {
                    try await signDocument(
                        document, name: name, digest: digest, origin: origin, context: context, reader: reader)
                }
                if let signature { return signature }
            }
            throw Self.noCard
        } catch {
            throw Self.agentError(error)
        }
    }

    private func signDocument(
        _ document: [UInt8], name: String, digest: String, origin: PortalOrigin, context: PCSCContext, reader: String
    ) async throws -> DocumentSignature? {
        let connection = try await context.connect(to: reader)
        do {
            let signature = try await signDocument(
                document, name: name, digest: digest, origin: origin, connection: connection)
            await connection.disconnect()
            return signature
        } catch {
            await connection.disconnect()
            throw error
        }
    }

    private func signDocument(
        _ document: [UInt8], name: String, digest: String, origin: PortalOrigin, connection: PCSCCard
    ) async throws -> DocumentSignature? {
        let operation = "sign the document \"\(name)\" (電子署名)"
        let key: CardKey
        let pin = JPKIPIN.signing
        if let found = try await Self.myNumberCard(on: connection, pin: pin) {
            let (card, status) = (found.card, found.status)
            let cardName = "My Number card (マイナンバーカード), signing key (署名用電子証明書)"
            try await consent(origin: origin, name: name, size: document.count, digest: digest, card: cardName)
            let secret = try await askPIN(
                status: status, origin: origin, operation: operation,
                pinName: pin.description, card: cardName, policy: pin.policy)
            key = try await card.signingKey(
                .signing, pin: secret.pin, allowLastTry: secret.lastTry, includeCACertificate: true)
        } else if let card = try? await ICCard.connect(transport: connection, profile: icCardProfile) {
            let cardName = "IC card (\(icCardProfile.name))"
            try await consent(origin: origin, name: name, size: document.count, digest: digest, card: cardName)
            let secret = try await askPIN(
                status: try await card.pinStatus(), origin: origin, operation: operation,
                pinName: "the IC card's PIN (PIN番号)", card: cardName, policy: icCardProfile.pinPolicy)
            key = try await card.signingKey(pin: secret.pin, allowLastTry: secret.lastTry)
        } else {
            return nil
        }
        let signed = try await CMSSignedData.sign(document, with: key)
        return DocumentSignature(
            signature: Data(signed.derEncoded).base64EncodedString(), digest: digest,
            certificate: Data(try key.certificate.derBytes()).base64EncodedString())
    }

    private func consent(origin: PortalOrigin, name: String, size: Int, digest: String, card: String)
        async throws(AgentError)
    {
        do {
            try await dialogs.confirm(
                DialogText.document(origin: origin, name: name, size: size, digest: digest, card: card))
        } catch  where error.code == .cancelled {
            throw AgentError(
                .cancelled,
                "The document was not signed: the person declined after seeing its digest; no PIN was asked.")
        }
    }

    /// Waits for the IC card renewal's swap: until a card that is in a reader now has left and a card different
    /// from all of them is in one (the same card put back does not count), then answers with that card.
    ///
    /// - Parameter timeout: How long to wait.
    /// - Throws: ``AgentError``: ``AgentError/Code-swift.struct/timeout`` (408) when no different card came in
    ///   time, ``AgentError/Code-swift.struct/cancelled`` when the page cancelled, or the PC/SC errors.
    public func waitForSwap(timeout: Duration) async throws(AgentError) -> AgentReader {
        let deadline = ContinuousClock.now + timeout
        do {
            let context = try PCSCContext()
            var present: [String: String?] = [:]  // reader → fingerprint of its card (nil: not identified)
            // Readers whose card was in at the start but was caught going out (or settling) while it was read: the
            // page shows the swap screen as it asks, so the person may take the current card out before this read.
            var unread: Set<String> = []
            for reader in try await context.readerStatuses().filter(\.isCardPresent).map(\.name) {
                do {
                    present[reader] = try await withReader(reader) {
                        try await identify(context: context, reader: reader)?.fingerprint
                    }
                } catch  where Self.isSettling(error) {
                    unread.insert(reader)
                }
            }
            var before = Set(present.values.compactMap { $0 })
            var removed = before.isEmpty && unread.isEmpty
            while ContinuousClock.now < deadline {
                try Task.checkCancellation()
                let statuses = try await context.readerStatuses()
                for status in statuses where unread.contains(status.name) {
                    // Gone: the current card went out. Still in: it was only settling, so it is read as a card
                    // that was there at the start (unknown cards that leave count as the current card going out).
                    unread.remove(status.name)
                    guard status.isCardPresent else {
                        removed = true
                        continue
                    }
                    do {
                        let fingerprint = try await withReader(status.name) {
                            try await identify(context: context, reader: status.name)?.fingerprint
                        }
                        present[status.name] = fingerprint
                        if let fingerprint { before.insert(fingerprint) }
                    } catch  where Self.isSettling(error) {
                        unread.insert(status.name)
                    }
                }
                for name in unread where !statuses.contains(where: { $0.name == name }) {
                    unread.remove(name)
                    removed = true
                }
                for status in statuses
                where !unread.contains(status.name) && status.isCardPresent != (present[status.name] != nil) {
                    guard status.isCardPresent else {
                        if let gone = present.removeValue(forKey: status.name), let gone, before.contains(gone) {
                            removed = true
                        }
                        continue
                    }
                    let card: AgentCard?
                    do {
                        card = try await withReader(status.name) {
                            try await identify(context: context, reader: status.name)
                        }
                    } catch  where Self.isSettling(error) {
                        // A card caught while it goes in (powered up, reset) or out: read it at the next poll.
                        continue
                    }
                    guard let card else { continue }
                    present[status.name] = card.fingerprint
                    if removed, let fingerprint = card.fingerprint, !before.contains(fingerprint) {
                        return AgentReader(name: status.name, card: card)
                    }
                }
                for name in present.keys where !statuses.contains(where: { $0.name == name }) {
                    if let gone = present.removeValue(forKey: name), let gone, before.contains(gone) { removed = true }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw AgentError(
                .timeout,
                removed
                    ? "No different card was inserted in time; insert the new IC card (新しいICカード) and try again."
                    : "The current card was not taken out in time; take it out, insert the new IC card (新しいICカード), "
                        + "and try again.",
                status: 408)
        } catch let error as CancellationError {
            _ = error
            throw AgentError(.cancelled, "The page cancelled the wait for the card swap.")
        } catch {
            throw Self.agentError(error)
        }
    }
}
