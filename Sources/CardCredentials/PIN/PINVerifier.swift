public import ISO7816

/// What a card says about a PIN before any try is spent.
public enum PINStatus: Sendable, Hashable, CustomStringConvertible {
    /// The PIN is not verified yet; `triesLeft` wrong tries remain before it is blocked.
    case triesLeft(Int)
    /// The card says the PIN is already verified in this session (`90 00` to the status query).
    case verified
    /// The PIN is blocked (閉塞): `63 C0`, `69 83` or `69 84`.
    case blocked

    /// The status read from the answer to a VERIFY without data, or `nil` when the status word has no PIN
    /// meaning.
    public init?(statusWord: StatusWord) {
        switch statusWord {
        case .success: self = .verified
        case .authenticationMethodBlocked, .referenceDataNotUsable: self = .blocked
        default:
            guard let tries = statusWord.verificationTriesLeft else { return nil }
            self = tries == 0 ? .blocked : .triesLeft(tries)
        }
    }

    /// A short English phrase (“3 tries left”, “verified”, “blocked (閉塞)”).
    public var description: String {
        switch self {
        case .triesLeft(let n): n == 1 ? "1 try left" : "\(n) tries left"
        case .verified: "verified"
        case .blocked: "blocked (閉塞)"
        }
    }
}

/// Verifies a PIN on a card over a `CardChannel`, spending a try only when it is safe to.
///
/// ``verify(_:allowLastTry:)`` first asks how many tries are left (`00 20 00 P2`, no data), refuses to spend
/// the very last try unless told to, then sends VERIFY (`00 20 00 P2 Lc PIN`): two APDUs. A PIN of the wrong
/// form is refused before anything is sent. The caller selects the application (and the PIN file, where the
/// card wants that) beforehand.
///
/// ```swift
/// let verifier = PINVerifier(channel: channel, policy: .jpkiSigning)  // P2 = 80: the selected PIN EF
/// do {
///     try await verifier.verify(pin)
/// } catch CardCredentialsError.wrongPIN(let triesLeft) {
///     // show "\(triesLeft) tries left"
/// }
/// ```
public struct PINVerifier: Sendable {
    /// The channel to the card.
    public let channel: CardChannel
    /// The form the card's PIN has.
    public let policy: PINPolicy
    /// VERIFY's P2: the PIN reference (`80` for “the PIN of the current DF/EF”, as JPKI uses).
    public let reference: UInt8
    /// VERIFY's class byte.
    public let cla: UInt8

    /// A verifier for one PIN of the card behind `channel`.
    ///
    /// - Parameters:
    ///   - channel: The channel, with the PIN's application (and file) selected.
    ///   - policy: The PIN's form; a PIN made under another policy is checked against this one too.
    ///   - reference: VERIFY's P2.
    ///   - cla: VERIFY's class byte.
    public init(channel: CardChannel, policy: PINPolicy, reference: UInt8 = 0x80, cla: UInt8 = 0x00) {
        self.channel = channel
        self.policy = policy
        self.reference = reference
        self.cla = cla
    }

    /// Asks the card how many tries are left, without spending one (one APDU).
    ///
    /// - Throws: ``CardCredentialsError/unexpectedCardStatus(_:operation:)`` when the answer has no PIN meaning;
    ///   the channel's errors when the link fails.
    public func status() async throws -> PINStatus {
        let query = try CommandAPDU(cla: cla, ins: 0x20, p1: 0x00, p2: reference)
        let response = try await channel.transmit(query)
        guard let status = PINStatus(statusWord: response.statusWord) else {
            throw CardCredentialsError.unexpectedCardStatus(response.statusWord, operation: "the PIN status query")
        }
        return status
    }

    /// Verifies `pin`: checks its form, asks the tries left, then sends VERIFY.
    ///
    /// A card that answers the query with `90 00` (already verified in this session) still gets the VERIFY, so
    /// the PIN the person typed is always the one checked; the last-try guard cannot apply then, as the card did
    /// not say how many tries are left.
    ///
    /// - Parameters:
    ///   - pin: The PIN.
    ///   - allowLastTry: Whether to send the PIN when only one try is left (a wrong PIN then blocks the card).
    /// - Throws: ``CardCredentialsError/pinFormat(_:)`` (nothing sent),
    ///   ``CardCredentialsError/pinBlocked`` (blocked before or by this try),
    ///   ``CardCredentialsError/lastTryRefused`` (only the status query sent),
    ///   ``CardCredentialsError/wrongPIN(triesLeft:)``,
    ///   ``CardCredentialsError/unexpectedCardStatus(_:operation:)``, or the channel's errors.
    public func verify(_ pin: SecretPIN, allowLastTry: Bool = false) async throws {
        if pin.policy != policy { try pin.check(against: policy) }
        switch try await status() {
        case .blocked:
            throw CardCredentialsError.pinBlocked
        case .triesLeft(1) where !allowLastTry:
            throw CardCredentialsError.lastTryRefused
        case .triesLeft, .verified:
            break
        }
        var command = try pin.withUnsafeBytes { bytes throws(ISO7816Error) in
            try CommandAPDU(cla: cla, ins: 0x20, p1: 0x00, p2: reference, data: Array(bytes), sensitive: true)
        }
        defer { command.wipeData() }
        let response = try await channel.transmit(command)
        if response.statusWord == .success { return }
        switch PINStatus(statusWord: response.statusWord) {
        case .blocked?:
            throw CardCredentialsError.pinBlocked
        case .triesLeft(let n)?:
            throw CardCredentialsError.wrongPIN(triesLeft: n)
        case .verified?, nil:
            throw CardCredentialsError.unexpectedCardStatus(response.statusWord, operation: "VERIFY")
        }
    }
}
