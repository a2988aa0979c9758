import ISO7816
public import Logging
import Synchronization

/// A virtual IC card of a private certification authority (民間認証局) of the kind e-bidding uses: one ISO 7816-4
/// application with the holder's certificate, the CA certificate, a PIN with a retry counter and an RSA-2048
/// signing key. Its profile (AID, files, commands, status words) is in the article "Private-CA IC card profile".
///
/// ```swift
/// let card = try PrivateCAICCard.issue(by: authority, holder: .example, pin: "PASS1234")
/// _ = card.respond(to: [0x00, 0xA4, 0x04, 0x0C, UInt8(PrivateCAICCard.aid.count)] + PrivateCAICCard.aid)
/// ```
public final class PrivateCAICCard: VirtualCard {
    /// The application's DF name: `F0 50 52 4F 43 49 44 01` (`F0` + "PROCID" + `01`), in the ISO 7816-5
    /// proprietary range that no registered provider uses.
    public static let aid: [UInt8] = [0xF0, 0x50, 0x52, 0x4F, 0x43, 0x49, 0x44, 0x01]
    /// The holder's certificate EF.
    public static let holderCertificateFID: UInt16 = 0x0101
    /// The CA certificate EF.
    public static let caCertificateFID: UInt16 = 0x0102
    /// VERIFY's P2 for the card's PIN (specific reference 1).
    public static let pinReference: UInt8 = 0x81
    /// The answer to reset: T=1 with the historical bytes "PROCIDIC".
    public static let defaultATR: [UInt8] = {
        let historical = Array("PROCIDIC".utf8)
        let body: [UInt8] = [0x80 | UInt8(historical.count), 0x80, 0x01] + historical
        let tck = body.reduce(0, ^)
        return [0x3B] + body + [tck]
    }()

    /// Everything the card holds that outlives a session. It holds the private key and the PIN: keep it private.
    public struct Snapshot: Sendable, Codable {
        /// The holder's certificate, DER.
        public var holderCertificate: [UInt8]
        /// The issuing CA's certificate, DER.
        public var caCertificate: [UInt8]
        /// The signing key, PEM.
        public var signingKeyPEM: String
        /// The PIN record.
        public var pin: PINRecord
        /// The answer to reset.
        public var atr: [UInt8]
    }

    private struct State: Sendable {
        var core: FileSystemCardCore
        var snapshot: Snapshot
    }

    private let state: Mutex<State>
    private let observer: Mutex<(@Sendable (Snapshot) -> Void)?> = Mutex(nil)

    /// The answer to reset.
    public let atr: [UInt8]
    private let logger: Logger

    /// The usual behaviour of such cards: extended length, `69 83` for a blocked PIN, `90 00` for the tries-left
    /// query once verified (ISO 7816-4).
    public static let defaultBehavior = CardBehavior(
        supportsExtendedLength: true, blockedPINStatus: .authenticationMethodBlocked, verifiedPINQuery: .success)

    /// Makes a card from its contents.
    ///
    /// - Parameters:
    ///   - snapshot: The certificates, key and PIN.
    ///   - behavior: Where real cards differ.
    ///   - logger: Where every APDU is traced (`trace` level, PINs masked).
    public init(
        snapshot: Snapshot, behavior: CardBehavior = PrivateCAICCard.defaultBehavior,
        logger: Logger = Logger(label: "CardSimulator.PrivateCAICCard")
    ) throws(CardSimulatorError) {
        let key = try CardRSAKey(pemRepresentation: snapshot.signingKeyPEM)
        let application = CardApplication(
            aid: Self.aid,
            files: [
                Self.holderCertificateFID: .transparent(data: snapshot.holderCertificate, read: .always),
                Self.caCertificateFID: .transparent(data: snapshot.caCertificate, read: .always),
            ],
            pinReferences: [Self.pinReference: "pin"])
        let core = FileSystemCardCore(
            applications: [application], keys: ["signing": CardKeyObject(key: key, pin: "pin")],
            pins: ["pin": snapshot.pin], behavior: behavior,
            signature: SignatureCommand(cla: 0x00, p1: 0x9E, p2: 0x9A, key: "signing"))
        self.atr = snapshot.atr
        self.logger = logger
        self.state = Mutex(State(core: core, snapshot: snapshot))
    }

    /// Makes the PIN record of a new card.
    ///
    /// - Parameters:
    ///   - pin: The PIN the CA hands out with the card.
    ///   - maximumTries: Wrong tries before the PIN blocks (AOSign: 10).
    ///   - rules: What a new PIN must look like; 4–16 printable ASCII characters unless told.
    public static func pinRecord(
        _ pin: String, maximumTries: Int = 10,
        rules: PINRules = PINRules(lengths: 4...16, characters: .printableASCII)
    ) throws(CardSimulatorError) -> PINRecord {
        guard (1...15).contains(maximumTries) else {
            throw .invalidParameter("the PIN's maximum tries must be 1 to 15 (one hex digit in 63Cx)")
        }
        return PINRecord(value: try rules.validate(pin), maximumTries: maximumTries, rules: rules)
    }

    /// The card's contents now, the PIN counter included.
    public var snapshot: Snapshot {
        state.withLock { state in
            var snapshot = state.snapshot
            if let record = state.core.pins["pin"] { snapshot.pin = record }
            return snapshot
        }
    }

    /// Calls `observer` after every command that changed the PIN counter or value, with the new snapshot.
    public func onPersistentStateChange(_ observer: (@Sendable (Snapshot) -> Void)?) {
        self.observer.withLock { $0 = observer }
    }

    /// The PIN's tries left (0 when blocked).
    public var triesLeft: Int {
        state.withLock { $0.core.pins["pin"]?.triesLeft ?? 0 }
    }

    /// Whether the PIN is verified in the current session.
    public var isVerified: Bool {
        state.withLock { $0.core.isVerified("pin") }
    }

    /// Drops the session (selected application and file, verified PINs) on any power event; files, keys and PIN
    /// counters stay.
    public func handle(_ event: CardPowerEvent) {
        state.withLock { $0.core.resetSecurityState() }
    }

    /// Answers one command APDU with the status word a real card gives, never trapping on malformed bytes.
    public func respond(to command: [UInt8]) -> [UInt8] {
        let (answer, changed) = state.withLock { state -> ([UInt8], Bool) in
            let answer = state.core.respond(to: command)
            let changed = state.core.persistentStateChanged
            state.core.persistentStateChanged = false
            return (answer, changed)
        }
        CardTrace.log(logger, card: "private-CA IC card", command: command, response: answer)
        if changed, let observer = observer.withLock({ $0 }) { observer(snapshot) }
        return answer
    }
}
