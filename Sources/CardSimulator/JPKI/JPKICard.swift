import ISO7816
public import Logging
import Synchronization

/// A virtual My Number card: the JPKI application (公的個人認証 AP) and the text-input-support application
/// (券面事項入力補助 AP), true to the public protocol facts, with real RSA-2048 keys and PIN counters that block.
///
/// | application | AID | files |
/// |---|---|---|
/// | JPKI | `D3 92 F0 00 26 01 00 00 00 01` | `000A` `000B` `0001` (after the signing PIN) `0002` `0006`; PINs `0018` `001B`; keys `0017` `001A` |
/// | text input support | `D3 92 10 00 31 00 01 01 04 08` | PIN `0011`; `0001` `0002` (after the PIN) |
///
/// ```swift
/// let authority = try TestCertificateAuthority(directory: caDirectory)
/// let card = try JPKICard.issue(by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
/// let answer = card.respond(to: [0x00, 0xA4, 0x04, 0x0C, 0x0A] + JPKICard.jpkiAID)  // 90 00
/// ```
public final class JPKICard: VirtualCard {
    /// The answer to reset OpenSC matches as JPKI: `3B E0 00 FF 81 31 FE 45 14`.
    public static let defaultATR: [UInt8] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14]
    /// The JPKI application's DF name.
    public static let jpkiAID: [UInt8] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
    /// The text-input-support application's DF name.
    public static let textInputSupportAID: [UInt8] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08]
    /// The token label of a My Number card (EF `0006`), before space padding.
    public static let tokenLabel = "JPKIAPICCTOKEN2"

    /// The card's three PINs.
    public enum PIN: String, Sendable, Hashable, Codable, CaseIterable {
        /// The user-authentication PIN (利用者証明用パスワード), EF `0018`: 4 digits, 3 tries.
        case authentication
        /// The signing PIN (署名用パスワード), EF `001B`: 6–16 characters, 5 tries.
        case signing
        /// The text-input-support PIN (券面事項入力補助用暗証番号), EF `0011`: 4 digits, 3 tries.
        case textInputSupport
    }

    /// Everything a JPKI card holds that outlives a session: files, keys, PIN values and counters. Persist it
    /// (it is `Codable`) to keep a card across restarts; it holds private keys and PINs, so keep it private.
    public struct Snapshot: Sendable, Codable {
        /// The holder.
        public var holder: JPKIHolder
        /// EF `000A`: the authentication certificate, DER.
        public var authenticationCertificate: [UInt8]
        /// EF `000B`: the authentication CA certificate, DER.
        public var authenticationCACertificate: [UInt8]
        /// EF `0001`: the signing certificate, DER.
        public var signingCertificate: [UInt8]
        /// EF `0002`: the signing CA certificate, DER.
        public var signingCACertificate: [UInt8]
        /// The authentication private key (EF `0017`), PEM.
        public var authenticationKeyPEM: String
        /// The signing private key (EF `001A`), PEM.
        public var signingKeyPEM: String
        /// The PIN records by PIN.
        public var pins: [PIN: PINRecord]
        /// The card's answer to reset.
        public var atr: [UInt8]
        /// The token label written to EF `0006`.
        public var tokenLabel: String
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

    /// Makes a card from its contents.
    ///
    /// - Parameters:
    ///   - snapshot: The files, keys and PINs.
    ///   - behavior: Where real cards differ: extended length, `69 84` or `69 83` for a blocked PIN, the
    ///     tries-left answer while verified.
    ///   - logger: Where every APDU is traced (`trace` level, PINs masked).
    public init(
        snapshot: Snapshot, behavior: CardBehavior = CardBehavior(),
        logger: Logger = Logger(label: "CardSimulator.JPKICard")
    ) throws(CardSimulatorError) {
        let holder = try snapshot.holder.validated()
        for pin in PIN.allCases where snapshot.pins[pin] == nil {
            throw .invalidParameter("the snapshot has no \(pin.rawValue) PIN")
        }
        let authKey = try CardRSAKey(pemRepresentation: snapshot.authenticationKeyPEM)
        let signKey = try CardRSAKey(pemRepresentation: snapshot.signingKeyPEM)
        var label = Array(snapshot.tokenLabel.utf8)
        if label.count < 32 { label += [UInt8](repeating: 0x20, count: 32 - label.count) }
        let jpki = CardApplication(
            aid: Self.jpkiAID,
            files: [
                0x000A: .transparent(data: snapshot.authenticationCertificate, read: .always),
                0x000B: .transparent(data: snapshot.authenticationCACertificate, read: .always),
                0x0001: .transparent(data: snapshot.signingCertificate, read: .pinVerified(PIN.signing.rawValue)),
                0x0002: .transparent(data: snapshot.signingCACertificate, read: .always),
                0x0006: .transparent(data: label, read: .always),
                0x0018: .pin(id: PIN.authentication.rawValue),
                0x001B: .pin(id: PIN.signing.rawValue),
                0x0017: .key(id: "authentication"),
                0x001A: .key(id: "signing"),
            ])
        let textSupport = CardApplication(
            aid: Self.textInputSupportAID,
            files: [
                0x0011: .pin(id: PIN.textInputSupport.rawValue),
                0x0001: .transparent(
                    data: holder.individualNumberFile, read: .pinVerified(PIN.textInputSupport.rawValue)),
                0x0002: .transparent(
                    data: holder.basicFourFactsFile, read: .pinVerified(PIN.textInputSupport.rawValue)),
            ])
        var pins: [String: PINRecord] = [:]
        for (pin, record) in snapshot.pins { pins[pin.rawValue] = record }
        let core = FileSystemCardCore(
            applications: [jpki, textSupport],
            keys: [
                "authentication": CardKeyObject(key: authKey, pin: PIN.authentication.rawValue),
                "signing": CardKeyObject(key: signKey, pin: PIN.signing.rawValue),
            ],
            pins: pins, behavior: behavior,
            signature: SignatureCommand(cla: 0x80, p1: 0x00, p2: 0x80, key: nil))
        self.atr = snapshot.atr
        self.logger = logger
        self.state = Mutex(State(core: core, snapshot: snapshot))
    }

    /// Makes the PIN records of a new card, checking each PIN against its rules.
    ///
    /// - Parameters:
    ///   - signingPIN: 6–16 upper-case letters and digits.
    ///   - authenticationPIN: 4 digits.
    ///   - textInputSupportPIN: 4 digits; the authentication PIN when `nil`, as most holders choose.
    public static func pinRecords(
        signingPIN: String, authenticationPIN: String, textInputSupportPIN: String? = nil
    ) throws(CardSimulatorError) -> [PIN: PINRecord] {
        [
            .signing: PINRecord(
                value: try PINRules.jpkiSigning.validate(signingPIN), maximumTries: 5, rules: .jpkiSigning),
            .authentication: PINRecord(
                value: try PINRules.fourDigits.validate(authenticationPIN), maximumTries: 3, rules: .fourDigits),
            .textInputSupport: PINRecord(
                value: try PINRules.fourDigits.validate(textInputSupportPIN ?? authenticationPIN), maximumTries: 3,
                rules: .fourDigits),
        ]
    }

    /// The card's contents now, PIN counters included, to persist and restore with ``init(snapshot:behavior:logger:)``.
    public var snapshot: Snapshot {
        state.withLock { state in
            var snapshot = state.snapshot
            for pin in PIN.allCases {
                if let record = state.core.pins[pin.rawValue] { snapshot.pins[pin] = record }
            }
            return snapshot
        }
    }

    /// Calls `observer` (on the task that sent the command) after every command that changed a PIN counter or
    /// value, with the new snapshot, so the owner can persist it. Replaces any earlier observer.
    public func onPersistentStateChange(_ observer: (@Sendable (Snapshot) -> Void)?) {
        self.observer.withLock { $0 = observer }
    }

    /// The tries left of a PIN (0 when blocked).
    public func triesLeft(_ pin: PIN) -> Int {
        state.withLock { $0.core.pins[pin.rawValue]?.triesLeft ?? 0 }
    }

    /// Whether a PIN is verified in the current session.
    public func isVerified(_ pin: PIN) -> Bool {
        state.withLock { $0.core.isVerified(pin.rawValue) }
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
        CardTrace.log(logger, card: "JPKI", command: command, response: answer)
        if changed, let observer = observer.withLock({ $0 }) { observer(snapshot) }
        return answer
    }
}
