import ISO7816

/// Who may read a transparent file or use a key.
enum AccessCondition: Sendable, Hashable {
    /// Anyone.
    case always
    /// After VERIFY of the PIN with this identifier (in the current session).
    case pinVerified(String)
}

/// An elementary file of the small ISO 7816-4 file system a simulated card carries.
enum ElementaryFile: Sendable {
    /// A transparent EF, read with READ BINARY.
    case transparent(data: [UInt8], read: AccessCondition)
    /// A PIN object (VERIFY and CHANGE REFERENCE DATA address it when it is the current EF).
    case pin(id: String)
    /// A private key (COMPUTE DIGITAL SIGNATURE uses it when it is the current EF).
    case key(id: String)
}

/// A dedicated file selected by its DF name (AID): an application with its EFs by file identifier.
struct CardApplication: Sendable {
    /// The DF name.
    var aid: [UInt8]
    /// The EFs by 2-byte file identifier.
    var files: [UInt16: ElementaryFile]
    /// PINs addressed by VERIFY's P2 (`81`, `82` …) without selecting them first.
    var pinReferences: [UInt8: String] = [:]
}

/// A signing key on the card and the PIN that guards it.
struct CardKeyObject: Sendable {
    var key: CardRSAKey
    var pin: String
}

/// A PIN's persistent state: its value and retry counter. It prints, dumps and reflects without its value.
public struct PINRecord: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The PIN's ASCII bytes.
    var value: [UInt8]
    /// The counter's start value.
    public var maximumTries: Int
    /// Tries left; 0 means blocked (閉塞).
    public var triesLeft: Int
    /// The rules a new PIN must fit.
    public var rules: PINRules

    init(value: [UInt8], maximumTries: Int, rules: PINRules) {
        self.value = value
        self.maximumTries = maximumTries
        self.triesLeft = maximumTries
        self.rules = rules
    }

    /// Whether the PIN is blocked.
    public var isBlocked: Bool { triesLeft <= 0 }

    /// The counter as the low nibble of `63 Cx` carries it (0…15).
    var triesLeftNibble: UInt16 { UInt16(min(max(triesLeft, 0), 15)) }

    /// The counter, never the value: `PIN <redacted>, 3 of 3 tries left`.
    public var description: String { "PIN <redacted>, \(triesLeft) of \(maximumTries) tries left" }
    /// Same as ``description``.
    public var debugDescription: String { description }
    /// A mirror without the value, so `dump` shows no PIN.
    public var customMirror: Mirror {
        Mirror(self, children: ["value": "<redacted>", "maximumTries": maximumTries, "triesLeft": triesLeft])
    }
}

/// How a card addresses its signing key in COMPUTE DIGITAL SIGNATURE.
struct SignatureCommand: Sendable {
    var cla: UInt8
    var p1: UInt8
    var p2: UInt8
    /// The key to use; `nil` means the current EF, which must be a key EF.
    var key: String?
}

/// The command processor shared by the simulated cards: SELECT, READ BINARY, VERIFY, CHANGE REFERENCE DATA and
/// COMPUTE DIGITAL SIGNATURE over a small file system, answering every error with the ISO 7816-4 status word.
/// Which PIN a command addresses.
enum PINAddress {
    case found(String)
    case refused(StatusWord)
}

struct FileSystemCardCore: Sendable {
    var applications: [CardApplication]
    var keys: [String: CardKeyObject]
    var pins: [String: PINRecord]
    var behavior: CardBehavior
    var signature: SignatureCommand

    // Volatile security state.
    private(set) var currentApplication: Int?
    private(set) var currentFile: UInt16?
    private(set) var verified: Set<String> = []
    /// Set when a command changed persistent state (PIN counters or values).
    var persistentStateChanged = false

    init(
        applications: [CardApplication], keys: [String: CardKeyObject], pins: [String: PINRecord],
        behavior: CardBehavior, signature: SignatureCommand
    ) {
        self.applications = applications
        self.keys = keys
        self.pins = pins
        self.behavior = behavior
        self.signature = signature
    }

    /// Drops the volatile state, as on power-off, reset or power-on.
    mutating func resetSecurityState() {
        currentApplication = nil
        currentFile = nil
        verified = []
    }

    /// Whether a PIN was verified in this session.
    func isVerified(_ pin: String) -> Bool { verified.contains(pin) }

    mutating func respond(to bytes: [UInt8]) -> [UInt8] {
        let response = process(bytes)
        return response.bytes
    }

    private mutating func process(_ bytes: [UInt8]) -> ResponseAPDU {
        guard let command = try? CommandAPDU(bytes: bytes) else { return status(.wrongLength) }
        let extended = bytes.count >= 7 && bytes[4] == 0x00
        if extended && !behavior.supportsExtendedLength { return status(.wrongLength) }
        switch (command.cla, command.ins) {
        case (0x00, 0xA4): return select(command)
        case (0x00, 0xB0): return readBinary(command, extended: extended)
        case (0x00, 0x20): return verify(command)
        case (0x00, 0x24): return changeReferenceData(command)
        case (signature.cla, 0x2A): return computeSignature(command)
        case (0x00, _), (0x80, _): return status(.instructionNotSupported)
        default: return status(.classNotSupported)
        }
    }

    private func status(_ sw: StatusWord) -> ResponseAPDU { ResponseAPDU(statusWord: sw) }

    // MARK: SELECT

    private mutating func select(_ command: CommandAPDU) -> ResponseAPDU {
        // P2: b4-b3 the answer (00 FCI, 04 FCP, 08 FMD, 0C none), b2-b1 the occurrence (only "first or only"
        // here), the high nibble zero.
        guard command.p2 & 0xF3 == 0 else { return status(.incorrectP1P2) }
        let wantsFCI = command.p2 & 0x0C != 0x0C && command.expectedLength != nil
        switch command.p1 {
        case 0x04:
            guard let index = applications.firstIndex(where: { $0.aid == command.data }) else {
                return status(.fileNotFound)
            }
            // Selecting an application (again) ends its session: verified PINs are forgotten.
            currentApplication = index
            currentFile = nil
            verified = []
            guard wantsFCI else { return status(.success) }
            let aid = applications[index].aid
            let fci: [UInt8] = [0x6F, UInt8(aid.count + 2), 0x84, UInt8(aid.count)] + aid
            return ResponseAPDU(data: fci, statusWord: .success)
        case 0x00, 0x02:
            guard command.data.count == 2 else {
                return command.data.isEmpty ? status(.fileNotFound) : status(.wrongLength)
            }
            let fid = UInt16(command.data[0]) << 8 | UInt16(command.data[1])
            guard let app = currentApplication, let file = applications[app].files[fid] else {
                return status(.fileNotFound)
            }
            currentFile = fid
            guard wantsFCI else { return status(.success) }
            var size = 0
            if case .transparent(let data, _) = file { size = data.count }
            let fcp: [UInt8] = [
                0x62, 0x0B, 0x80, 0x02, UInt8(size >> 8), UInt8(size & 0xFF), 0x82, 0x01, 0x01, 0x83, 0x02,
                UInt8(fid >> 8), UInt8(fid & 0xFF),
            ]
            return ResponseAPDU(data: fcp, statusWord: .success)
        case 0x08, 0x09:
            return status(.fileNotFound)
        default:
            return status(.incorrectP1P2)
        }
    }

    // MARK: READ BINARY

    private func readBinary(_ command: CommandAPDU, extended: Bool) -> ResponseAPDU {
        guard command.p1 & 0x80 == 0 else { return status(.incorrectP1P2) }  // no short EF identifiers
        guard command.data.isEmpty, let ne = command.expectedLength else { return status(.wrongLength) }
        guard let app = currentApplication, let fid = currentFile, let file = applications[app].files[fid] else {
            return status(.noCurrentEF)
        }
        guard case .transparent(let data, let access) = file else { return status(StatusWord(0x6981)) }
        guard isSatisfied(access) else { return status(.securityStatusNotSatisfied) }
        let offset = Int(command.p1) << 8 | Int(command.p2)
        guard offset < data.count else { return status(.wrongP1P2) }
        let end = min(data.count, offset + ne)
        let chunk = Array(data[offset..<end])
        let askedForMaximum = ne == (extended ? 65536 : 256)
        let sw: StatusWord = chunk.count == ne || askedForMaximum ? .success : StatusWord(0x6282)
        return ResponseAPDU(data: chunk, statusWord: sw)
    }

    private func isSatisfied(_ access: AccessCondition) -> Bool {
        switch access {
        case .always: true
        case .pinVerified(let pin): verified.contains(pin)
        }
    }

    // MARK: VERIFY and CHANGE REFERENCE DATA

    /// The PIN a VERIFY or CHANGE REFERENCE DATA addresses, or the status word that refuses it.
    private func addressedPIN(p2: UInt8) -> PINAddress {
        guard let app = currentApplication else { return .refused(.referencedDataNotFound) }
        if p2 == 0x80 {
            guard let fid = currentFile, let file = applications[app].files[fid] else {
                return .refused(.noCurrentEF)
            }
            guard case .pin(let id) = file else { return .refused(.referencedDataNotFound) }
            return .found(id)
        }
        guard p2 & 0x80 != 0 else { return .refused(.incorrectP1P2) }
        guard let id = applications[app].pinReferences[p2] else { return .refused(.referencedDataNotFound) }
        return .found(id)
    }

    private mutating func verify(_ command: CommandAPDU) -> ResponseAPDU {
        guard command.p1 == 0x00 else { return status(.incorrectP1P2) }
        let id: String
        switch addressedPIN(p2: command.p2) {
        case .found(let found): id = found
        case .refused(let sw): return status(sw)
        }
        guard var record = pins[id] else { return status(.referencedDataNotFound) }
        if command.data.isEmpty {
            // The tries-left query.
            if verified.contains(id) && behavior.verifiedPINQuery == .success { return status(.success) }
            return status(StatusWord(0x63C0 | record.triesLeftNibble))
        }
        if record.isBlocked {
            verified.remove(id)
            return status(StatusWord(behavior.blockedPINStatus.rawValue))
        }
        if constantTimeEqual(command.data, record.value) {
            if record.triesLeft != record.maximumTries {
                record.triesLeft = record.maximumTries
                pins[id] = record
                persistentStateChanged = true
            }
            verified.insert(id)
            return status(.success)
        }
        record.triesLeft -= 1
        pins[id] = record
        persistentStateChanged = true
        verified.remove(id)
        return status(StatusWord(0x63C0 | record.triesLeftNibble))
    }

    private mutating func changeReferenceData(_ command: CommandAPDU) -> ResponseAPDU {
        guard command.p1 == 0x01 else { return status(.incorrectP1P2) }
        let id: String
        switch addressedPIN(p2: command.p2) {
        case .found(let found): id = found
        case .refused(let sw): return status(sw)
        }
        guard var record = pins[id] else { return status(.referencedDataNotFound) }
        if record.isBlocked { return status(StatusWord(behavior.blockedPINStatus.rawValue)) }
        guard verified.contains(id) else { return status(.securityStatusNotSatisfied) }
        guard !command.data.isEmpty else { return status(.wrongLength) }
        guard record.rules.accepts(command.data) else { return status(.incorrectData) }
        record.value = command.data
        record.triesLeft = record.maximumTries
        pins[id] = record
        persistentStateChanged = true
        return status(.success)
    }

    // MARK: COMPUTE DIGITAL SIGNATURE

    private func computeSignature(_ command: CommandAPDU) -> ResponseAPDU {
        guard command.p1 == signature.p1, command.p2 == signature.p2 else { return status(.incorrectP1P2) }
        let keyID: String
        if let fixed = signature.key {
            guard currentApplication != nil else { return status(.conditionsOfUseNotSatisfied) }
            keyID = fixed
        } else {
            guard let app = currentApplication, let fid = currentFile, let file = applications[app].files[fid] else {
                return status(.noCurrentEF)
            }
            guard case .key(let id) = file else { return status(.conditionsOfUseNotSatisfied) }
            keyID = id
        }
        guard let key = keys[keyID] else { return status(.referencedDataNotFound) }
        guard verified.contains(key.pin) else { return status(.securityStatusNotSatisfied) }
        let size = key.key.bitCount / 8
        guard !command.data.isEmpty, command.data.count <= size - 11 else { return status(.wrongLength) }
        guard let signed = try? key.key.signPKCS1(digestInfo: command.data) else {
            return status(.noPreciseDiagnosis)
        }
        return ResponseAPDU(data: signed, statusWord: .success)
    }
}

/// Compares two byte strings without stopping at the first difference.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    // Lengths first: folding them into one byte would let lengths 256 apart compare equal.
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count {
        let x = i < a.count ? a[i] : 0
        let y = i < b.count ? b[i] : 0
        difference |= x ^ y
    }
    return difference == 0
}
