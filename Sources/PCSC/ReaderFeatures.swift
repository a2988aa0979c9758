/// The features a reader offers through `SCardControl` (PC/SC part 10, CCID): a map from feature to control code.
///
/// Read them with ``PCSCCard/features()``. The answer to `CM_IOCTL_GET_FEATURE_REQUEST` is a list of
/// tag (1 byte), length (1 byte, always 4) and a big-endian control code.
public struct ReaderFeatures: Sendable, Hashable {
    /// A PC/SC part 10 feature tag.
    public struct Feature: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// `FEATURE_VERIFY_PIN_START` (0x01).
        public static let verifyPINStart = Feature(rawValue: 0x01)
        /// `FEATURE_VERIFY_PIN_FINISH` (0x02).
        public static let verifyPINFinish = Feature(rawValue: 0x02)
        /// `FEATURE_MODIFY_PIN_START` (0x03).
        public static let modifyPINStart = Feature(rawValue: 0x03)
        /// `FEATURE_MODIFY_PIN_FINISH` (0x04).
        public static let modifyPINFinish = Feature(rawValue: 0x04)
        /// `FEATURE_GET_KEY_PRESSED` (0x05).
        public static let getKeyPressed = Feature(rawValue: 0x05)
        /// `FEATURE_VERIFY_PIN_DIRECT` (0x06): the reader takes the PIN on its own keypad.
        public static let verifyPINDirect = Feature(rawValue: 0x06)
        /// `FEATURE_MODIFY_PIN_DIRECT` (0x07).
        public static let modifyPINDirect = Feature(rawValue: 0x07)
        /// `FEATURE_MCT_READER_DIRECT` (0x08).
        public static let mctReaderDirect = Feature(rawValue: 0x08)
        /// `FEATURE_MCT_UNIVERSAL` (0x09).
        public static let mctUniversal = Feature(rawValue: 0x09)
        /// `FEATURE_IFD_PIN_PROPERTIES` (0x0A).
        public static let ifdPINProperties = Feature(rawValue: 0x0A)
        /// `FEATURE_ABORT` (0x0B).
        public static let abort = Feature(rawValue: 0x0B)
        /// `FEATURE_SET_SPE_MESSAGE` (0x0C).
        public static let setSPEMessage = Feature(rawValue: 0x0C)
        /// `FEATURE_VERIFY_PIN_DIRECT_APP_ID` (0x0D).
        public static let verifyPINDirectAppID = Feature(rawValue: 0x0D)
        /// `FEATURE_MODIFY_PIN_DIRECT_APP_ID` (0x0E).
        public static let modifyPINDirectAppID = Feature(rawValue: 0x0E)
        /// `FEATURE_WRITE_DISPLAY` (0x0F).
        public static let writeDisplay = Feature(rawValue: 0x0F)
        /// `FEATURE_GET_KEY` (0x10).
        public static let getKey = Feature(rawValue: 0x10)
        /// `FEATURE_IFD_DISPLAY_PROPERTIES` (0x11).
        public static let ifdDisplayProperties = Feature(rawValue: 0x11)
        /// `FEATURE_GET_TLV_PROPERTIES` (0x12).
        public static let getTLVProperties = Feature(rawValue: 0x12)
        /// `FEATURE_CCID_ESC_COMMAND` (0x13).
        public static let ccidEscCommand = Feature(rawValue: 0x13)
        /// `FEATURE_EXECUTE_PACE` (0x20).
        public static let executePACE = Feature(rawValue: 0x20)

        public var description: String {
            let names: [UInt8: String] = [
                0x01: "VERIFY_PIN_START", 0x02: "VERIFY_PIN_FINISH", 0x03: "MODIFY_PIN_START",
                0x04: "MODIFY_PIN_FINISH", 0x05: "GET_KEY_PRESSED", 0x06: "VERIFY_PIN_DIRECT",
                0x07: "MODIFY_PIN_DIRECT", 0x08: "MCT_READER_DIRECT", 0x09: "MCT_UNIVERSAL",
                0x0A: "IFD_PIN_PROPERTIES", 0x0B: "ABORT", 0x0C: "SET_SPE_MESSAGE",
                0x0D: "VERIFY_PIN_DIRECT_APP_ID", 0x0E: "MODIFY_PIN_DIRECT_APP_ID", 0x0F: "WRITE_DISPLAY",
                0x10: "GET_KEY", 0x11: "IFD_DISPLAY_PROPERTIES", 0x12: "GET_TLV_PROPERTIES",
                0x13: "CCID_ESC_COMMAND", 0x20: "EXECUTE_PACE",
            ]
            return "FEATURE_" + (names[rawValue].map { String($0.dropFirst(0)) } ?? "0x\(String(rawValue, radix: 16))")
        }
    }

    /// The control code of each feature the reader offers.
    public let controlCodes: [Feature: UInt32]

    /// Parses the answer to `CM_IOCTL_GET_FEATURE_REQUEST`.
    ///
    /// - Throws: a ``PCSCError`` of code ``PCSCError/Code-swift.struct/malformedReply`` when an entry is truncated or
    ///   its length is not 4.
    public init(parsing bytes: [UInt8]) throws(PCSCError) {
        var codes: [Feature: UInt32] = [:]
        var index = 0
        while index < bytes.count {
            guard index + 2 <= bytes.count else {
                throw PCSCError.malformedReply("feature entry cut short at byte \(index)")
            }
            let tag = bytes[index]
            let length = Int(bytes[index + 1])
            guard length == 4 else {
                throw PCSCError.malformedReply("feature 0x\(String(tag, radix: 16)) has length \(length)")
            }
            guard index + 6 <= bytes.count else {
                throw PCSCError.malformedReply("feature value cut short at byte \(index)")
            }
            let value = bytes[(index + 2)..<(index + 6)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            codes[Feature(rawValue: tag)] = value
            index += 6
        }
        controlCodes = codes
    }

    /// The control code of a feature, or `nil` when the reader does not offer it.
    public func controlCode(_ feature: Feature) -> UInt32? {
        controlCodes[feature]
    }

    /// Whether the reader takes PINs on its own keypad.
    public var hasPINPad: Bool { controlCodes[.verifyPINDirect] != nil }
}

/// A `PIN_VERIFY_STRUCTURE` for ``PCSCCard/verifyPINOnPad(_:)`` (PC/SC part 10, CCID `PC_to_RDR_Secure`): how the
/// reader formats the PIN a person types on its keypad into the VERIFY command.
///
/// The defaults fit a PIN of ASCII digits sent as the whole data field of `00 20 00 P2 Lc PIN`, as the JPKI and
/// most private-CA cards take it.
public struct PINPadVerifyRequest: Sendable, Hashable {
    /// Seconds the reader waits for the first key (0: the reader's default).
    public var timeout: UInt8 = 0
    /// Seconds the reader waits after each key.
    public var timeoutAfterKey: UInt8 = 0
    /// `bmFormatString`: bytes as units, PIN at data offset 0, left-justified, ASCII.
    public var formatString: UInt8 = 0x82
    /// `bmPINBlockString`: no PIN length field; the PIN block is the entered PIN.
    public var pinBlockString: UInt8 = 0x00
    /// `bmPINLengthFormat`.
    public var pinLengthFormat: UInt8 = 0x00
    /// The shortest PIN the keypad accepts.
    public var minimumLength: UInt8
    /// The longest PIN the keypad accepts.
    public var maximumLength: UInt8
    /// `bEntryValidationCondition`: 2 = validation key pressed.
    public var entryValidation: UInt8 = 0x02
    /// `bNumberMessage`: 1 message ("enter PIN").
    public var numberOfMessages: UInt8 = 0x01
    /// `wLangId`: 0x0411 Japanese.
    public var languageID: UInt16 = 0x0411
    /// The VERIFY command without the PIN: `CLA INS P1 P2` (the reader adds Lc and the PIN).
    public var verifyHeader: [UInt8]

    /// A request for a PIN of `minimumLength`…`maximumLength` digits for the PIN reference `reference`.
    public init(reference: UInt8, minimumLength: UInt8, maximumLength: UInt8, cla: UInt8 = 0x00) {
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
        self.verifyHeader = [cla, 0x20, 0x00, reference]
    }

    /// The structure's bytes (little-endian multi-byte fields, packed), followed by the APDU template.
    public func encoded() -> [UInt8] {
        // The APDU template carries Lc = 0 and no PIN; the reader fills both.
        let apdu = verifyHeader + [0x00]
        var bytes: [UInt8] = [
            timeout, timeoutAfterKey, formatString, pinBlockString, pinLengthFormat,
            maximumLength, minimumLength,  // wPINMaxExtraDigit: max in the low byte, min in the high byte
            entryValidation, numberOfMessages,
            UInt8(languageID & 0xFF), UInt8(languageID >> 8),
            0x00,  // bMsgIndex
            0x00, 0x00, 0x00,  // bTeoPrologue
        ]
        let length = UInt32(apdu.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]
        return bytes + apdu
    }
}
