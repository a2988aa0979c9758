/// The status word SW1 SW2 that ends every response APDU, with its ISO/IEC 7816-4 meaning (§5.6).
///
/// ```swift
/// let sw = StatusWord(0x63C2)
/// sw.verificationTriesLeft   // 2
/// sw.meaning                 // "verification failed, 2 tries left"
/// ```
public struct StatusWord: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// SW1 SW2 as one big-endian number (`0x9000`).
    public var rawValue: UInt16

    /// Makes a status word from its two bytes as one number (`0x6A82`).
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Makes a status word from its two bytes as one number (`0x6A82`).
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    /// Makes a status word from SW1 and SW2.
    public init(sw1: UInt8, sw2: UInt8) { self.rawValue = UInt16(sw1) << 8 | UInt16(sw2) }

    /// The first status byte.
    public var sw1: UInt8 { UInt8(rawValue >> 8) }
    /// The second status byte.
    public var sw2: UInt8 { UInt8(rawValue & 0xFF) }

    /// `90 00`: normal processing.
    public static let success = StatusWord(0x9000)
    /// `67 00`: wrong length (Lc or Le), also how cards refuse extended length.
    public static let wrongLength = StatusWord(0x6700)
    /// `69 82`: security status not satisfied (a PIN must be verified first).
    public static let securityStatusNotSatisfied = StatusWord(0x6982)
    /// `69 83`: authentication method blocked (a blocked PIN on many cards).
    public static let authenticationMethodBlocked = StatusWord(0x6983)
    /// `69 84`: reference data not usable (a blocked PIN on My Number cards).
    public static let referenceDataNotUsable = StatusWord(0x6984)
    /// `69 85`: conditions of use not satisfied.
    public static let conditionsOfUseNotSatisfied = StatusWord(0x6985)
    /// `69 86`: command not allowed, no current EF.
    public static let noCurrentEF = StatusWord(0x6986)
    /// `6A 80`: incorrect parameters in the data field.
    public static let incorrectData = StatusWord(0x6A80)
    /// `6A 81`: function not supported.
    public static let functionNotSupported = StatusWord(0x6A81)
    /// `6A 82`: file or application not found.
    public static let fileNotFound = StatusWord(0x6A82)
    /// `6A 86`: incorrect parameters P1-P2.
    public static let incorrectP1P2 = StatusWord(0x6A86)
    /// `6A 88`: referenced data not found.
    public static let referencedDataNotFound = StatusWord(0x6A88)
    /// `6B 00`: wrong parameters P1-P2 (for READ BINARY: offset beyond the end of the file).
    public static let wrongP1P2 = StatusWord(0x6B00)
    /// `6D 00`: instruction code not supported or invalid.
    public static let instructionNotSupported = StatusWord(0x6D00)
    /// `6E 00`: class not supported.
    public static let classNotSupported = StatusWord(0x6E00)
    /// `6F 00`: no precise diagnosis.
    public static let noPreciseDiagnosis = StatusWord(0x6F00)
    /// `68 83`: last command of the chain expected.
    public static let lastCommandOfChainExpected = StatusWord(0x6883)
    /// `68 84`: command chaining not supported.
    public static let chainingNotSupported = StatusWord(0x6884)

    /// Whether SW1 SW2 is `90 00`.
    public var isSuccess: Bool { rawValue == 0x9000 }

    /// For `61xx`: the number of response bytes still available (`00` means 256 or more).
    public var bytesRemaining: Int? {
        sw1 == 0x61 ? (sw2 == 0 ? 256 : Int(sw2)) : nil
    }

    /// For `6Cxx`: the exact Le the card wants the command resent with (`00` means 256).
    public var correctExpectedLength: Int? {
        sw1 == 0x6C ? (sw2 == 0 ? 256 : Int(sw2)) : nil
    }

    /// For `63Cx`: the verification tries left (the counter x).
    public var verificationTriesLeft: Int? {
        sw1 == 0x63 && sw2 & 0xF0 == 0xC0 ? Int(sw2 & 0x0F) : nil
    }

    /// The broad kind of answer, from SW1 (ISO 7816-4 table 5).
    public enum Category: Sendable, Hashable {
        /// `9000` or `61xx`: the command was processed.
        case normal
        /// `62xx`, `63xx`: processed with a warning.
        case warning
        /// `64xx`–`66xx`: execution error.
        case executionError
        /// `67xx`–`6Fxx`: checking error (the command was refused).
        case checkingError
        /// Anything else (proprietary or invalid).
        case other
    }

    /// The broad kind of answer.
    public var category: Category {
        switch sw1 {
        case 0x90 where sw2 == 0, 0x61: .normal
        case 0x62, 0x63: .warning
        case 0x64, 0x65, 0x66: .executionError
        case 0x67...0x6F: .checkingError
        default: .other
        }
    }

    /// The ISO 7816-4 meaning in words, lower case, for messages and traces.
    public var meaning: String {
        switch (sw1, sw2) {
        case (0x90, 0x00): return "success"
        case (0x61, _):
            return sw2 == 0
                ? "256 or more response bytes still available" : "\(sw2) response bytes still available"
        case (0x62, 0x00): return "warning: no information given, non-volatile memory unchanged"
        case (0x62, 0x81): return "warning: part of the returned data may be corrupted"
        case (0x62, 0x82): return "warning: end of file or record reached before reading Ne bytes"
        case (0x62, 0x83): return "warning: selected file deactivated"
        case (0x62, 0x84): return "warning: file control information not formatted per ISO 7816-4"
        case (0x62, 0x85): return "warning: selected file in termination state"
        case (0x62, 0x86): return "warning: no input data available from a sensor"
        case (0x62, 0x02...0x80): return "warning: triggering by the card (\(sw2) bytes of query data)"
        case (0x62, _): return "warning: non-volatile memory unchanged"
        case (0x63, 0x00): return "warning: no information given, non-volatile memory changed"
        case (0x63, 0x81): return "warning: file filled up by the last write"
        case (0x63, 0xC0...0xCF):
            let n = Int(sw2 & 0x0F)
            return n == 0
                ? "verification failed, no tries left (blocked)"
                : "verification failed, \(n) \(n == 1 ? "try" : "tries") left"
        case (0x63, _): return "warning: non-volatile memory changed"
        case (0x64, 0x00): return "execution error: non-volatile memory unchanged"
        case (0x64, 0x01): return "execution error: immediate response required by the card"
        case (0x64, _): return "execution error: non-volatile memory unchanged"
        case (0x65, 0x81): return "execution error: memory failure"
        case (0x65, _): return "execution error: non-volatile memory changed"
        case (0x66, _): return "execution error: security-related issue"
        case (0x67, 0x00): return "wrong length (Lc or Le)"
        case (0x67, _): return "wrong length"
        case (0x68, 0x81): return "logical channel not supported"
        case (0x68, 0x82): return "secure messaging not supported"
        case (0x68, 0x83): return "last command of the chain expected"
        case (0x68, 0x84): return "command chaining not supported"
        case (0x68, _): return "functions in CLA not supported"
        case (0x69, 0x81): return "command incompatible with file structure"
        case (0x69, 0x82): return "security status not satisfied"
        case (0x69, 0x83): return "authentication method blocked"
        case (0x69, 0x84): return "reference data not usable"
        case (0x69, 0x85): return "conditions of use not satisfied"
        case (0x69, 0x86): return "command not allowed (no current EF)"
        case (0x69, 0x87): return "expected secure messaging data objects missing"
        case (0x69, 0x88): return "incorrect secure messaging data objects"
        case (0x69, _): return "command not allowed"
        case (0x6A, 0x80): return "incorrect parameters in the data field"
        case (0x6A, 0x81): return "function not supported"
        case (0x6A, 0x82): return "file or application not found"
        case (0x6A, 0x83): return "record not found"
        case (0x6A, 0x84): return "not enough memory space in the file"
        case (0x6A, 0x85): return "Nc inconsistent with TLV structure"
        case (0x6A, 0x86): return "incorrect parameters P1-P2"
        case (0x6A, 0x87): return "Nc inconsistent with parameters P1-P2"
        case (0x6A, 0x88): return "referenced data or reference data not found"
        case (0x6A, 0x89): return "file already exists"
        case (0x6A, 0x8A): return "DF name already exists"
        case (0x6A, _): return "wrong parameters P1-P2"
        case (0x6B, 0x00): return "wrong parameters P1-P2 (offset outside the file)"
        case (0x6C, _): return "wrong Le field: \(sw2 == 0 ? 256 : Int(sw2)) bytes available"
        case (0x6D, 0x00): return "instruction code not supported or invalid"
        case (0x6E, 0x00): return "class not supported"
        case (0x6F, 0x00): return "no precise diagnosis"
        default: return "unknown status"
        }
    }

    /// `"90 00"`.
    public var hexString: String { Hex.encode([sw1, sw2]) }

    /// `"6A 82 (file or application not found)"`.
    public var description: String { "\(hexString) (\(meaning))" }
}
