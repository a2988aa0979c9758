public import ISO7816

/// A PC/SC failure: the code pcsc-lite returned (one of its `SCARD_E_*`, `SCARD_F_*` and `SCARD_W_*` codes, or
/// ``Code-swift.struct/malformedReply`` for a failure of this binding itself), its C name and what it means.
///
/// The codes are values of an extensible ``Code-swift.struct``, not enumeration cases: a code that a later
/// pcsc-lite adds (or one this table lacks) is still a `PCSCError`, and a release of this library that names
/// more codes breaks no `switch`. Match on the code:
///
/// ```swift
/// do { _ = try await context.connect(to: reader) }
/// catch let error as PCSCError where error.code == .noSmartcard { print("insert the card") }
/// ```
///
/// ``description`` says what happened, in one sentence that ends with the C name. What a person should do about
/// it (start pcscd, plug in a reader) depends on the system and is left to the program that shows the message.
public struct PCSCError: Error, Sendable, Hashable, CustomStringConvertible, CardTransportError {
    /// A PC/SC result code: pcsc-lite's value (`0x8010000C`), or a negative value for a failure of this binding.
    ///
    /// Every code of pcsc-lite 1.9 has a static member (``noSmartcard``, ``removedCard``, …); a code without
    /// one is still a valid `Code`, made with ``init(rawValue:)``.
    public struct Code: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
        /// pcsc-lite's value (`0x8010000C`), or a negative value for a failure of this binding.
        public let rawValue: Int64

        /// The code of a value (any value: codes this library does not name are kept as they are).
        public init(rawValue: Int64) {
            self.rawValue = rawValue
        }

        /// The C name (`SCARD_E_NO_SMARTCARD`), `"unknown"` for a code this library does not name, or
        /// `"malformedReply"` for the binding's own failure.
        public var name: String {
            if self == .malformedReply { return "malformedReply" }
            return PCSCError.entry(for: self)?.name ?? "unknown"
        }

        /// The C name and value: `SCARD_E_NO_SMARTCARD (0x8010000C)`.
        public var description: String {
            if rawValue < 0 { return name }
            return "\(name) (\(PCSCError.hex(rawValue)))"
        }

        /// Whether this library names the code (it has a static member).
        var isNamed: Bool { PCSCError.entry(for: self) != nil }

        /// A reader name, card answer or feature list that this binding could not decode (no pcsc-lite code).
        public static let malformedReply = Code(rawValue: -1)

        /// `SCARD_F_INTERNAL_ERROR` (`0x80100001`): An internal consistency check in pcsc-lite failed.
        public static let internalError = Code(rawValue: 0x8010_0001)
        /// `SCARD_E_CANCELLED` (`0x80100002`): The operation was cancelled by a call to SCardCancel.
        public static let cancelled = Code(rawValue: 0x8010_0002)
        /// `SCARD_E_INVALID_HANDLE` (`0x80100003`): The PC/SC context or card handle is no longer valid.
        public static let invalidHandle = Code(rawValue: 0x8010_0003)
        /// `SCARD_E_INVALID_PARAMETER` (`0x80100004`): pcsc-lite refused a parameter as invalid.
        public static let invalidParameter = Code(rawValue: 0x8010_0004)
        /// `SCARD_E_INVALID_TARGET` (`0x80100005`): The registry start-up information is missing or invalid.
        public static let invalidTarget = Code(rawValue: 0x8010_0005)
        /// `SCARD_E_NO_MEMORY` (`0x80100006`): pcsc-lite ran out of memory.
        public static let noMemory = Code(rawValue: 0x8010_0006)
        /// `SCARD_F_WAITED_TOO_LONG` (`0x80100007`): An internal wait of pcsc-lite timed out.
        public static let waitedTooLong = Code(rawValue: 0x8010_0007)
        /// `SCARD_E_INSUFFICIENT_BUFFER` (`0x80100008`): The answer did not fit the receive buffer.
        public static let insufficientBuffer = Code(rawValue: 0x8010_0008)
        /// `SCARD_E_UNKNOWN_READER` (`0x80100009`): No reader has that name.
        public static let unknownReader = Code(rawValue: 0x8010_0009)
        /// `SCARD_E_TIMEOUT` (`0x8010000A`): The wait ended before anything changed.
        public static let timeout = Code(rawValue: 0x8010_000A)
        /// `SCARD_E_SHARING_VIOLATION` (`0x8010000B`): Another application holds the card exclusively.
        public static let sharingViolation = Code(rawValue: 0x8010_000B)
        /// `SCARD_E_NO_SMARTCARD` (`0x8010000C`): There is no card in the reader.
        public static let noSmartcard = Code(rawValue: 0x8010_000C)
        /// `SCARD_E_UNKNOWN_CARD` (`0x8010000D`): The card name is not known to pcsc-lite.
        public static let unknownCard = Code(rawValue: 0x8010_000D)
        /// `SCARD_E_CANT_DISPOSE` (`0x8010000E`): The reader cannot dispose of the card as asked (eject, reset or power down).
        public static let cannotDispose = Code(rawValue: 0x8010_000E)
        /// `SCARD_E_PROTO_MISMATCH` (`0x8010000F`): The card does not speak the requested protocol (T=0 or T=1).
        public static let protocolMismatch = Code(rawValue: 0x8010_000F)
        /// `SCARD_E_NOT_READY` (`0x80100010`): The reader or card is not ready.
        public static let notReady = Code(rawValue: 0x8010_0010)
        /// `SCARD_E_INVALID_VALUE` (`0x80100011`): pcsc-lite refused a value as invalid.
        public static let invalidValue = Code(rawValue: 0x8010_0011)
        /// `SCARD_E_SYSTEM_CANCELLED` (`0x80100012`): The system cancelled the operation (log-off or shutdown).
        public static let systemCancelled = Code(rawValue: 0x8010_0012)
        /// `SCARD_F_COMM_ERROR` (`0x80100013`): Communication with pcscd failed.
        public static let communicationError = Code(rawValue: 0x8010_0013)
        /// `SCARD_F_UNKNOWN_ERROR` (`0x80100014`): pcsc-lite reported an unknown internal error.
        public static let unknownError = Code(rawValue: 0x8010_0014)
        /// `SCARD_E_INVALID_ATR` (`0x80100015`): The card's answer to reset is invalid.
        public static let invalidATR = Code(rawValue: 0x8010_0015)
        /// `SCARD_E_NOT_TRANSACTED` (`0x80100016`): The reader did not complete the exchange.
        public static let notTransacted = Code(rawValue: 0x8010_0016)
        /// `SCARD_E_READER_UNAVAILABLE` (`0x80100017`): The reader is unavailable.
        public static let readerUnavailable = Code(rawValue: 0x8010_0017)
        /// `SCARD_E_PCI_TOO_SMALL` (`0x80100019`): The protocol control information buffer is too small.
        public static let pciTooSmall = Code(rawValue: 0x8010_0019)
        /// `SCARD_E_READER_UNSUPPORTED` (`0x8010001A`): The reader driver does not support this operation.
        public static let readerUnsupported = Code(rawValue: 0x8010_001A)
        /// `SCARD_E_DUPLICATE_READER` (`0x8010001B`): A reader of that name already exists.
        public static let duplicateReader = Code(rawValue: 0x8010_001B)
        /// `SCARD_E_CARD_UNSUPPORTED` (`0x8010001C`): The card is not supported by the reader.
        public static let cardUnsupported = Code(rawValue: 0x8010_001C)
        /// `SCARD_E_NO_SERVICE` (`0x8010001D`): The smart card service (pcscd) is not running.
        public static let noService = Code(rawValue: 0x8010_001D)
        /// `SCARD_E_SERVICE_STOPPED` (`0x8010001E`): The smart card service (pcscd) stopped.
        public static let serviceStopped = Code(rawValue: 0x8010_001E)
        /// `SCARD_E_UNSUPPORTED_FEATURE` (`0x8010001F`): The reader or pcsc-lite does not support this feature.
        public static let unsupportedFeature = Code(rawValue: 0x8010_001F)
        /// `SCARD_E_ICC_INSTALLATION` (`0x80100020`): No primary provider is installed for the card.
        public static let iccInstallation = Code(rawValue: 0x8010_0020)
        /// `SCARD_E_ICC_CREATEORDER` (`0x80100021`): The requested order of object creation is not supported.
        public static let iccCreateOrder = Code(rawValue: 0x8010_0021)
        /// `SCARD_E_DIR_NOT_FOUND` (`0x80100023`): The card directory does not exist.
        public static let directoryNotFound = Code(rawValue: 0x8010_0023)
        /// `SCARD_E_FILE_NOT_FOUND` (`0x80100024`): The card file does not exist.
        public static let fileNotFound = Code(rawValue: 0x8010_0024)
        /// `SCARD_E_NO_DIR` (`0x80100025`): The path does not name a card directory.
        public static let noDirectory = Code(rawValue: 0x8010_0025)
        /// `SCARD_E_NO_FILE` (`0x80100026`): The path does not name a card file.
        public static let noFile = Code(rawValue: 0x8010_0026)
        /// `SCARD_E_NO_ACCESS` (`0x80100027`): Access to the card file is denied.
        public static let noAccess = Code(rawValue: 0x8010_0027)
        /// `SCARD_E_WRITE_TOO_MANY` (`0x80100028`): The card has no room for the data.
        public static let writeTooMany = Code(rawValue: 0x8010_0028)
        /// `SCARD_E_BAD_SEEK` (`0x80100029`): Setting the card file pointer failed.
        public static let badSeek = Code(rawValue: 0x8010_0029)
        /// `SCARD_E_INVALID_CHV` (`0x8010002A`): The PIN is invalid.
        public static let invalidCHV = Code(rawValue: 0x8010_002A)
        /// `SCARD_E_UNKNOWN_RES_MNG` (`0x8010002B`): pcsc-lite returned an unrecognised error code.
        public static let unknownResourceManager = Code(rawValue: 0x8010_002B)
        /// `SCARD_E_NO_SUCH_CERTIFICATE` (`0x8010002C`): The requested certificate does not exist.
        public static let noSuchCertificate = Code(rawValue: 0x8010_002C)
        /// `SCARD_E_CERTIFICATE_UNAVAILABLE` (`0x8010002D`): The requested certificate could not be obtained.
        public static let certificateUnavailable = Code(rawValue: 0x8010_002D)
        /// `SCARD_E_NO_READERS_AVAILABLE` (`0x8010002E`): No card reader is connected.
        public static let noReadersAvailable = Code(rawValue: 0x8010_002E)
        /// `SCARD_E_COMM_DATA_LOST` (`0x8010002F`): Data were lost between the reader and the card.
        public static let communicationDataLost = Code(rawValue: 0x8010_002F)
        /// `SCARD_E_NO_KEY_CONTAINER` (`0x80100030`): The requested key container does not exist on the card.
        public static let noKeyContainer = Code(rawValue: 0x8010_0030)
        /// `SCARD_E_SERVER_TOO_BUSY` (`0x80100031`): pcscd is too busy to complete the operation.
        public static let serverTooBusy = Code(rawValue: 0x8010_0031)
        /// `SCARD_W_UNSUPPORTED_CARD` (`0x80100065`): The reader cannot talk to this card (ATR configuration conflict).
        public static let unsupportedCard = Code(rawValue: 0x8010_0065)
        /// `SCARD_W_UNRESPONSIVE_CARD` (`0x80100066`): The card does not answer reset.
        public static let unresponsiveCard = Code(rawValue: 0x8010_0066)
        /// `SCARD_W_UNPOWERED_CARD` (`0x80100067`): The card is not powered.
        public static let unpoweredCard = Code(rawValue: 0x8010_0067)
        /// `SCARD_W_RESET_CARD` (`0x80100068`): Another application reset the card: the selected application and verified PINs are gone.
        public static let resetCard = Code(rawValue: 0x8010_0068)
        /// `SCARD_W_REMOVED_CARD` (`0x80100069`): The card was removed.
        public static let removedCard = Code(rawValue: 0x8010_0069)
        /// `SCARD_W_SECURITY_VIOLATION` (`0x8010006A`): Access was denied because of a security violation.
        public static let securityViolation = Code(rawValue: 0x8010_006A)
        /// `SCARD_W_WRONG_CHV` (`0x8010006B`): The card refused the PIN.
        public static let wrongCHV = Code(rawValue: 0x8010_006B)
        /// `SCARD_W_CHV_BLOCKED` (`0x8010006C`): The PIN is blocked (閉塞) after too many wrong tries.
        public static let chvBlocked = Code(rawValue: 0x8010_006C)
        /// `SCARD_W_EOF` (`0x8010006D`): The end of the card file was reached.
        public static let endOfFile = Code(rawValue: 0x8010_006D)
        /// `SCARD_W_CANCELLED_BY_USER` (`0x8010006E`): The person cancelled the operation (on the reader's PIN pad).
        public static let cancelledByUser = Code(rawValue: 0x8010_006E)
        /// `SCARD_W_CARD_NOT_AUTHENTICATED` (`0x8010006F`): No PIN was presented to the card.
        public static let cardNotAuthenticated = Code(rawValue: 0x8010_006F)
    }

    /// What failed.
    public let code: Code
    /// What this binding could not decode, for ``Code-swift.struct/malformedReply``; `nil` otherwise.
    public let detail: String?

    /// An error of a code, with what could not be decoded where there is something to say.
    public init(_ code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    /// The error of a pcsc-lite return code; `nil` for `SCARD_S_SUCCESS`.
    public init?(code: Int64) {
        let value = Int64(UInt32(truncatingIfNeeded: code))
        if value == 0 { return nil }
        self.init(Code(rawValue: value))
    }

    /// A reply this binding could not decode.
    static func malformedReply(_ what: String) -> PCSCError {
        PCSCError(.malformedReply, detail: what)
    }

    /// One sentence about what happened, without advice: `There is no card in the reader.`
    public var summary: String {
        if code == .malformedReply { return "pcsc-lite's answer could not be decoded: \(detail ?? "no detail")." }
        return Self.entry(for: code)?.summary ?? "pcsc-lite returned the unknown code \(Self.hex(code.rawValue))."
    }

    public var description: String {
        code == .malformedReply ? summary : "\(summary) (\(code.name))"
    }

    /// The card-link failure this error stands for, so flows can react whatever the transport.
    public var failure: CardTransportFailure {
        Self.entry(for: code)?.failure ?? .other
    }

    // MARK: - The table

    fileprivate struct Entry {
        let name: String
        let failure: CardTransportFailure
        let summary: String
    }

    static func hex(_ value: Int64) -> String {
        "0x" + String(UInt32(truncatingIfNeeded: value), radix: 16, uppercase: true)
    }

    fileprivate static func entry(for code: Code) -> Entry? {
        entries[code.rawValue]
    }

    private static let entries: [Int64: Entry] = Dictionary(
        uniqueKeysWithValues: table.map { ($0.code, Entry(name: $0.name, failure: $0.failure, summary: $0.summary)) })

    /// Every code of pcsc-lite 1.9 (pcsclite.h): its value, C name, the link failure it stands for, and what it
    /// means. The one place a code is described.
    static let table: [(code: Int64, name: String, failure: CardTransportFailure, summary: String)] = [
        (0x8010_0001, "SCARD_F_INTERNAL_ERROR", .other, "An internal consistency check in pcsc-lite failed."),
        (0x8010_0002, "SCARD_E_CANCELLED", .other, "The operation was cancelled by a call to SCardCancel."),
        (0x8010_0003, "SCARD_E_INVALID_HANDLE", .other, "The PC/SC context or card handle is no longer valid."),
        (0x8010_0004, "SCARD_E_INVALID_PARAMETER", .other, "pcsc-lite refused a parameter as invalid."),
        (0x8010_0005, "SCARD_E_INVALID_TARGET", .other, "The registry start-up information is missing or invalid."),
        (0x8010_0006, "SCARD_E_NO_MEMORY", .other, "pcsc-lite ran out of memory."),
        (0x8010_0007, "SCARD_F_WAITED_TOO_LONG", .other, "An internal wait of pcsc-lite timed out."),
        (0x8010_0008, "SCARD_E_INSUFFICIENT_BUFFER", .other, "The answer did not fit the receive buffer."),
        (0x8010_0009, "SCARD_E_UNKNOWN_READER", .readerUnavailable, "No reader has that name."),
        (0x8010_000A, "SCARD_E_TIMEOUT", .other, "The wait ended before anything changed."),
        (
            0x8010_000B, "SCARD_E_SHARING_VIOLATION", .sharingViolation,
            "Another application holds the card exclusively."
        ),
        (0x8010_000C, "SCARD_E_NO_SMARTCARD", .cardRemoved, "There is no card in the reader."),
        (0x8010_000D, "SCARD_E_UNKNOWN_CARD", .other, "The card name is not known to pcsc-lite."),
        (
            0x8010_000E, "SCARD_E_CANT_DISPOSE", .other,
            "The reader cannot dispose of the card as asked (eject, reset or power down)."
        ),
        (0x8010_000F, "SCARD_E_PROTO_MISMATCH", .other, "The card does not speak the requested protocol (T=0 or T=1)."),
        (0x8010_0010, "SCARD_E_NOT_READY", .other, "The reader or card is not ready."),
        (0x8010_0011, "SCARD_E_INVALID_VALUE", .other, "pcsc-lite refused a value as invalid."),
        (0x8010_0012, "SCARD_E_SYSTEM_CANCELLED", .other, "The system cancelled the operation (log-off or shutdown)."),
        (0x8010_0013, "SCARD_F_COMM_ERROR", .serviceUnavailable, "Communication with pcscd failed."),
        (0x8010_0014, "SCARD_F_UNKNOWN_ERROR", .other, "pcsc-lite reported an unknown internal error."),
        (0x8010_0015, "SCARD_E_INVALID_ATR", .other, "The card's answer to reset is invalid."),
        (0x8010_0016, "SCARD_E_NOT_TRANSACTED", .cardUnresponsive, "The reader did not complete the exchange."),
        (0x8010_0017, "SCARD_E_READER_UNAVAILABLE", .readerUnavailable, "The reader is unavailable."),
        (0x8010_0019, "SCARD_E_PCI_TOO_SMALL", .other, "The protocol control information buffer is too small."),
        (0x8010_001A, "SCARD_E_READER_UNSUPPORTED", .other, "The reader driver does not support this operation."),
        (0x8010_001B, "SCARD_E_DUPLICATE_READER", .other, "A reader of that name already exists."),
        (0x8010_001C, "SCARD_E_CARD_UNSUPPORTED", .other, "The card is not supported by the reader."),
        (0x8010_001D, "SCARD_E_NO_SERVICE", .serviceUnavailable, "The smart card service (pcscd) is not running."),
        (0x8010_001E, "SCARD_E_SERVICE_STOPPED", .serviceUnavailable, "The smart card service (pcscd) stopped."),
        (0x8010_001F, "SCARD_E_UNSUPPORTED_FEATURE", .other, "The reader or pcsc-lite does not support this feature."),
        (0x8010_0020, "SCARD_E_ICC_INSTALLATION", .other, "No primary provider is installed for the card."),
        (0x8010_0021, "SCARD_E_ICC_CREATEORDER", .other, "The requested order of object creation is not supported."),
        (0x8010_0023, "SCARD_E_DIR_NOT_FOUND", .other, "The card directory does not exist."),
        (0x8010_0024, "SCARD_E_FILE_NOT_FOUND", .other, "The card file does not exist."),
        (0x8010_0025, "SCARD_E_NO_DIR", .other, "The path does not name a card directory."),
        (0x8010_0026, "SCARD_E_NO_FILE", .other, "The path does not name a card file."),
        (0x8010_0027, "SCARD_E_NO_ACCESS", .other, "Access to the card file is denied."),
        (0x8010_0028, "SCARD_E_WRITE_TOO_MANY", .other, "The card has no room for the data."),
        (0x8010_0029, "SCARD_E_BAD_SEEK", .other, "Setting the card file pointer failed."),
        (0x8010_002A, "SCARD_E_INVALID_CHV", .other, "The PIN is invalid."),
        (0x8010_002B, "SCARD_E_UNKNOWN_RES_MNG", .other, "pcsc-lite returned an unrecognised error code."),
        (0x8010_002C, "SCARD_E_NO_SUCH_CERTIFICATE", .other, "The requested certificate does not exist."),
        (0x8010_002D, "SCARD_E_CERTIFICATE_UNAVAILABLE", .other, "The requested certificate could not be obtained."),
        (0x8010_002E, "SCARD_E_NO_READERS_AVAILABLE", .readerUnavailable, "No card reader is connected."),
        (0x8010_002F, "SCARD_E_COMM_DATA_LOST", .cardUnresponsive, "Data were lost between the reader and the card."),
        (0x8010_0030, "SCARD_E_NO_KEY_CONTAINER", .other, "The requested key container does not exist on the card."),
        (0x8010_0031, "SCARD_E_SERVER_TOO_BUSY", .other, "pcscd is too busy to complete the operation."),
        (
            0x8010_0065, "SCARD_W_UNSUPPORTED_CARD", .other,
            "The reader cannot talk to this card (ATR configuration conflict)."
        ),
        (0x8010_0066, "SCARD_W_UNRESPONSIVE_CARD", .cardUnresponsive, "The card does not answer reset."),
        (0x8010_0067, "SCARD_W_UNPOWERED_CARD", .cardUnresponsive, "The card is not powered."),
        (
            0x8010_0068, "SCARD_W_RESET_CARD", .cardReset,
            "Another application reset the card: the selected application and verified PINs are gone."
        ),
        (0x8010_0069, "SCARD_W_REMOVED_CARD", .cardRemoved, "The card was removed."),
        (0x8010_006A, "SCARD_W_SECURITY_VIOLATION", .other, "Access was denied because of a security violation."),
        (0x8010_006B, "SCARD_W_WRONG_CHV", .other, "The card refused the PIN."),
        (0x8010_006C, "SCARD_W_CHV_BLOCKED", .other, "The PIN is blocked (閉塞) after too many wrong tries."),
        (0x8010_006D, "SCARD_W_EOF", .other, "The end of the card file was reached."),
        (
            0x8010_006E, "SCARD_W_CANCELLED_BY_USER", .other,
            "The person cancelled the operation (on the reader's PIN pad)."
        ),
        (0x8010_006F, "SCARD_W_CARD_NOT_AUTHENTICATED", .other, "No PIN was presented to the card."),
    ]
}
