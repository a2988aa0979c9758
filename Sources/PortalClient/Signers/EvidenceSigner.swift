import CardAgent
public import CardCredentials

/// What makes card evidence for a portal's challenge: a card through PC/SC (``CardEvidenceSigner``), a file key
/// or an already unlocked card key (``KeyEvidenceSigner``), or anything else — a card agent over HTTP, a test.
public protocol EvidenceSigner: Sendable {
    /// Signs `challenge` for `origin` and returns the evidence (`EvidenceChallenge.sign(for:with:algorithm:)`).
    ///
    /// - Parameters:
    ///   - challenge: The challenge as the portal issued it (the client checked its flow and step).
    ///   - origin: The portal's origin, the client's own (``PortalClient/origin``), never the server's word.
    func evidence(for challenge: EvidenceChallenge, origin: PortalOrigin) async throws -> CardEvidence
}

/// Evidence made with a key in hand: a `FileCredential` (a PKCS#12 file, as a load generator or a file
/// certificate uses), or a `CardKey` whose PIN was already verified.
///
/// ```swift
/// let signer = KeyEvidenceSigner(try FileCredential(pkcs12: bytes, password: password))
/// try await client.logIn(with: signer)
/// ```
public struct KeyEvidenceSigner: EvidenceSigner {
    /// The key.
    public let key: any Signer
    /// The signature algorithm; the key's preferred one when nil.
    public let algorithm: SigningAlgorithm?

    /// A signer over `key`.
    public init(_ key: any Signer, algorithm: SigningAlgorithm? = nil) {
        self.key = key
        self.algorithm = algorithm
    }

    public func evidence(for challenge: EvidenceChallenge, origin: PortalOrigin) async throws -> CardEvidence {
        try await challenge.sign(for: origin, with: key, algorithm: algorithm)
    }
}

/// Evidence from the card in a PC/SC reader, through the card agent's `CardAuthenticator`: a My Number card's
/// user-authentication key, or a private-CA IC card of the profile. The PIN comes from the caller, not from a
/// dialog.
///
/// The first reader holding a card the authenticator knows is used; the PIN's tries left are read first (a
/// blocked PIN fails without asking for the PIN); with one try left the PIN is sent only when `allowLastTry`.
/// `pin` is called once for each signature and its `SecretPIN` is dropped (and so wiped) right after the card
/// verified it; it is never logged and no error quotes it.
///
/// ```swift
/// let card = CardEvidenceSigner { try SecretPIN(readPIN(), policy: ICCardProfile.procurementIdentitySimulator.pinPolicy) }
/// try await client.logIn(with: card)
/// ```
///
/// Errors are the authenticator's `AgentError`: `noCard`, `wrongPIN` (with `triesLeft`), `pinBlocked`,
/// `lastTryRefused`, `cardRemoved`, `pcscUnavailable`, …
public struct CardEvidenceSigner: EvidenceSigner {
    /// The profile of the private-CA IC cards accepted besides My Number cards.
    public let icCardProfile: ICCardProfile
    /// Whether the PIN is sent when only one try is left (a wrong PIN then blocks it (閉塞)).
    public let allowLastTry: Bool
    private let pin: @Sendable () async throws -> SecretPIN

    /// A signer that asks `pin` for the card's PIN at each signature.
    public init(
        icCardProfile: ICCardProfile = .procurementIdentitySimulator, allowLastTry: Bool = false,
        pin: @escaping @Sendable () async throws -> SecretPIN
    ) {
        self.icCardProfile = icCardProfile
        self.allowLastTry = allowLastTry
        self.pin = pin
    }

    public func evidence(for challenge: EvidenceChallenge, origin: PortalOrigin) async throws -> CardEvidence {
        let authenticator = CardAuthenticator(
            dialogs: SuppliedPIN(pin: pin, allowLastTry: allowLastTry), icCardProfile: icCardProfile)
        return try await authenticator.authenticate(challenge, for: origin)
    }
}

/// The authenticator's dialogs answered by the caller: the PIN from a closure, the last try by a flag.
private struct SuppliedPIN: PINDialogs {
    let pin: @Sendable () async throws -> SecretPIN
    let allowLastTry: Bool

    func askPIN(_ dialog: PINDialog) async throws(AgentError) -> SecretPIN {
        do {
            return try await pin()
        } catch let error as AgentError {
            throw error
        } catch let error as CardCredentialsError {
            // A PIN of the wrong form: the error names the rule, never the characters.
            throw AgentError(.pinFormat, "The PIN given is not of the card's form: \(error.description)")
        } catch {
            throw AgentError(.cancelled, "No PIN was given (\(type(of: error))); nothing was sent to the card.")
        }
    }

    func confirm(_ dialog: ConsentDialog) async throws(AgentError) {
        guard allowLastTry else {
            throw AgentError(.cancelled, "The last try is not allowed for this signer.")
        }
    }
}
