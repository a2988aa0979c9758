public import ISO7816

/// A PC/SC failure: one case for every `SCARD_E_*`, `SCARD_F_*` and `SCARD_W_*` code of pcsc-lite, each with a
/// sentence a person can act on, plus the failures of this binding itself.
///
/// ```swift
/// do { _ = try await PCSCContext().readers() }
/// catch let error as PCSCError where error == .noService { print(error) }  // tells how to start pcscd
/// ```
public enum PCSCError: Error, Sendable, Hashable, CustomStringConvertible, CardTransportError {
    /// `SCARD_F_INTERNAL_ERROR` (`0x80100001`).
    case internalError
    /// `SCARD_E_CANCELLED` (`0x80100002`).
    case cancelled
    /// `SCARD_E_INVALID_HANDLE` (`0x80100003`).
    case invalidHandle
    /// `SCARD_E_INVALID_PARAMETER` (`0x80100004`).
    case invalidParameter
    /// `SCARD_E_INVALID_TARGET` (`0x80100005`).
    case invalidTarget
    /// `SCARD_E_NO_MEMORY` (`0x80100006`).
    case noMemory
    /// `SCARD_F_WAITED_TOO_LONG` (`0x80100007`).
    case waitedTooLong
    /// `SCARD_E_INSUFFICIENT_BUFFER` (`0x80100008`).
    case insufficientBuffer
    /// `SCARD_E_UNKNOWN_READER` (`0x80100009`).
    case unknownReader
    /// `SCARD_E_TIMEOUT` (`0x8010000A`).
    case timeout
    /// `SCARD_E_SHARING_VIOLATION` (`0x8010000B`).
    case sharingViolation
    /// `SCARD_E_NO_SMARTCARD` (`0x8010000C`).
    case noSmartcard
    /// `SCARD_E_UNKNOWN_CARD` (`0x8010000D`).
    case unknownCard
    /// `SCARD_E_CANT_DISPOSE` (`0x8010000E`).
    case cannotDispose
    /// `SCARD_E_PROTO_MISMATCH` (`0x8010000F`).
    case protocolMismatch
    /// `SCARD_E_NOT_READY` (`0x80100010`).
    case notReady
    /// `SCARD_E_INVALID_VALUE` (`0x80100011`).
    case invalidValue
    /// `SCARD_E_SYSTEM_CANCELLED` (`0x80100012`).
    case systemCancelled
    /// `SCARD_F_COMM_ERROR` (`0x80100013`).
    case communicationError
    /// `SCARD_F_UNKNOWN_ERROR` (`0x80100014`).
    case unknownError
    /// `SCARD_E_INVALID_ATR` (`0x80100015`).
    case invalidATR
    /// `SCARD_E_NOT_TRANSACTED` (`0x80100016`).
    case notTransacted
    /// `SCARD_E_READER_UNAVAILABLE` (`0x80100017`).
    case readerUnavailable
    /// `SCARD_E_PCI_TOO_SMALL` (`0x80100019`).
    case pciTooSmall
    /// `SCARD_E_READER_UNSUPPORTED` (`0x8010001A`).
    case readerUnsupported
    /// `SCARD_E_DUPLICATE_READER` (`0x8010001B`).
    case duplicateReader
    /// `SCARD_E_CARD_UNSUPPORTED` (`0x8010001C`).
    case cardUnsupported
    /// `SCARD_E_NO_SERVICE` (`0x8010001D`).
    case noService
    /// `SCARD_E_SERVICE_STOPPED` (`0x8010001E`).
    case serviceStopped
    /// `SCARD_E_UNSUPPORTED_FEATURE` (`0x8010001F`).
    case unsupportedFeature
    /// `SCARD_E_ICC_INSTALLATION` (`0x80100020`).
    case iccInstallation
    /// `SCARD_E_ICC_CREATEORDER` (`0x80100021`).
    case iccCreateOrder
    /// `SCARD_E_DIR_NOT_FOUND` (`0x80100023`).
    case directoryNotFound
    /// `SCARD_E_FILE_NOT_FOUND` (`0x80100024`).
    case fileNotFound
    /// `SCARD_E_NO_DIR` (`0x80100025`).
    case noDirectory
    /// `SCARD_E_NO_FILE` (`0x80100026`).
    case noFile
    /// `SCARD_E_NO_ACCESS` (`0x80100027`).
    case noAccess
    /// `SCARD_E_WRITE_TOO_MANY` (`0x80100028`).
    case writeTooMany
    /// `SCARD_E_BAD_SEEK` (`0x80100029`).
    case badSeek
    /// `SCARD_E_INVALID_CHV` (`0x8010002A`).
    case invalidCHV
    /// `SCARD_E_UNKNOWN_RES_MNG` (`0x8010002B`).
    case unknownResourceManager
    /// `SCARD_E_NO_SUCH_CERTIFICATE` (`0x8010002C`).
    case noSuchCertificate
    /// `SCARD_E_CERTIFICATE_UNAVAILABLE` (`0x8010002D`).
    case certificateUnavailable
    /// `SCARD_E_NO_READERS_AVAILABLE` (`0x8010002E`).
    case noReadersAvailable
    /// `SCARD_E_COMM_DATA_LOST` (`0x8010002F`).
    case communicationDataLost
    /// `SCARD_E_NO_KEY_CONTAINER` (`0x80100030`).
    case noKeyContainer
    /// `SCARD_E_SERVER_TOO_BUSY` (`0x80100031`).
    case serverTooBusy
    /// `SCARD_W_UNSUPPORTED_CARD` (`0x80100065`).
    case unsupportedCard
    /// `SCARD_W_UNRESPONSIVE_CARD` (`0x80100066`).
    case unresponsiveCard
    /// `SCARD_W_UNPOWERED_CARD` (`0x80100067`).
    case unpoweredCard
    /// `SCARD_W_RESET_CARD` (`0x80100068`).
    case resetCard
    /// `SCARD_W_REMOVED_CARD` (`0x80100069`).
    case removedCard
    /// `SCARD_W_SECURITY_VIOLATION` (`0x8010006A`).
    case securityViolation
    /// `SCARD_W_WRONG_CHV` (`0x8010006B`).
    case wrongCHV
    /// `SCARD_W_CHV_BLOCKED` (`0x8010006C`).
    case chvBlocked
    /// `SCARD_W_EOF` (`0x8010006D`).
    case endOfFile
    /// `SCARD_W_CANCELLED_BY_USER` (`0x8010006E`).
    case cancelledByUser
    /// `SCARD_W_CARD_NOT_AUTHENTICATED` (`0x8010006F`).
    case cardNotAuthenticated
    /// A code pcsc-lite returned that is not in this list.
    case unknownCode(Int64)
    /// A reader name or card answer that this binding could not decode.
    case malformedReply(String)

    /// Maps a pcsc-lite return code to its case; `nil` for `SCARD_S_SUCCESS`.
    public init?(code: Int64) {
        let value = UInt32(truncatingIfNeeded: code)
        switch value {
        case 0: return nil
        case 0x80100001: self = .internalError
        case 0x80100002: self = .cancelled
        case 0x80100003: self = .invalidHandle
        case 0x80100004: self = .invalidParameter
        case 0x80100005: self = .invalidTarget
        case 0x80100006: self = .noMemory
        case 0x80100007: self = .waitedTooLong
        case 0x80100008: self = .insufficientBuffer
        case 0x80100009: self = .unknownReader
        case 0x8010000A: self = .timeout
        case 0x8010000B: self = .sharingViolation
        case 0x8010000C: self = .noSmartcard
        case 0x8010000D: self = .unknownCard
        case 0x8010000E: self = .cannotDispose
        case 0x8010000F: self = .protocolMismatch
        case 0x80100010: self = .notReady
        case 0x80100011: self = .invalidValue
        case 0x80100012: self = .systemCancelled
        case 0x80100013: self = .communicationError
        case 0x80100014: self = .unknownError
        case 0x80100015: self = .invalidATR
        case 0x80100016: self = .notTransacted
        case 0x80100017: self = .readerUnavailable
        case 0x80100019: self = .pciTooSmall
        case 0x8010001A: self = .readerUnsupported
        case 0x8010001B: self = .duplicateReader
        case 0x8010001C: self = .cardUnsupported
        case 0x8010001D: self = .noService
        case 0x8010001E: self = .serviceStopped
        case 0x8010001F: self = .unsupportedFeature
        case 0x80100020: self = .iccInstallation
        case 0x80100021: self = .iccCreateOrder
        case 0x80100023: self = .directoryNotFound
        case 0x80100024: self = .fileNotFound
        case 0x80100025: self = .noDirectory
        case 0x80100026: self = .noFile
        case 0x80100027: self = .noAccess
        case 0x80100028: self = .writeTooMany
        case 0x80100029: self = .badSeek
        case 0x8010002A: self = .invalidCHV
        case 0x8010002B: self = .unknownResourceManager
        case 0x8010002C: self = .noSuchCertificate
        case 0x8010002D: self = .certificateUnavailable
        case 0x8010002E: self = .noReadersAvailable
        case 0x8010002F: self = .communicationDataLost
        case 0x80100030: self = .noKeyContainer
        case 0x80100031: self = .serverTooBusy
        case 0x80100065: self = .unsupportedCard
        case 0x80100066: self = .unresponsiveCard
        case 0x80100067: self = .unpoweredCard
        case 0x80100068: self = .resetCard
        case 0x80100069: self = .removedCard
        case 0x8010006A: self = .securityViolation
        case 0x8010006B: self = .wrongCHV
        case 0x8010006C: self = .chvBlocked
        case 0x8010006D: self = .endOfFile
        case 0x8010006E: self = .cancelledByUser
        case 0x8010006F: self = .cardNotAuthenticated
        default: self = .unknownCode(code)
        }
    }

    /// The pcsc-lite code (`0x8010000B`), or `0` for failures of this binding.
    public var code: Int64 {
        switch self {
        case .internalError: 0x80100001
        case .cancelled: 0x80100002
        case .invalidHandle: 0x80100003
        case .invalidParameter: 0x80100004
        case .invalidTarget: 0x80100005
        case .noMemory: 0x80100006
        case .waitedTooLong: 0x80100007
        case .insufficientBuffer: 0x80100008
        case .unknownReader: 0x80100009
        case .timeout: 0x8010000A
        case .sharingViolation: 0x8010000B
        case .noSmartcard: 0x8010000C
        case .unknownCard: 0x8010000D
        case .cannotDispose: 0x8010000E
        case .protocolMismatch: 0x8010000F
        case .notReady: 0x80100010
        case .invalidValue: 0x80100011
        case .systemCancelled: 0x80100012
        case .communicationError: 0x80100013
        case .unknownError: 0x80100014
        case .invalidATR: 0x80100015
        case .notTransacted: 0x80100016
        case .readerUnavailable: 0x80100017
        case .pciTooSmall: 0x80100019
        case .readerUnsupported: 0x8010001A
        case .duplicateReader: 0x8010001B
        case .cardUnsupported: 0x8010001C
        case .noService: 0x8010001D
        case .serviceStopped: 0x8010001E
        case .unsupportedFeature: 0x8010001F
        case .iccInstallation: 0x80100020
        case .iccCreateOrder: 0x80100021
        case .directoryNotFound: 0x80100023
        case .fileNotFound: 0x80100024
        case .noDirectory: 0x80100025
        case .noFile: 0x80100026
        case .noAccess: 0x80100027
        case .writeTooMany: 0x80100028
        case .badSeek: 0x80100029
        case .invalidCHV: 0x8010002A
        case .unknownResourceManager: 0x8010002B
        case .noSuchCertificate: 0x8010002C
        case .certificateUnavailable: 0x8010002D
        case .noReadersAvailable: 0x8010002E
        case .communicationDataLost: 0x8010002F
        case .noKeyContainer: 0x80100030
        case .serverTooBusy: 0x80100031
        case .unsupportedCard: 0x80100065
        case .unresponsiveCard: 0x80100066
        case .unpoweredCard: 0x80100067
        case .resetCard: 0x80100068
        case .removedCard: 0x80100069
        case .securityViolation: 0x8010006A
        case .wrongCHV: 0x8010006B
        case .chvBlocked: 0x8010006C
        case .endOfFile: 0x8010006D
        case .cancelledByUser: 0x8010006E
        case .cardNotAuthenticated: 0x8010006F
        case .unknownCode(let code): code
        case .malformedReply: 0
        }
    }

    /// The C name of the code (`"SCARD_E_SHARING_VIOLATION"`).
    public var codeName: String {
        switch self {
        case .internalError: "SCARD_F_INTERNAL_ERROR"
        case .cancelled: "SCARD_E_CANCELLED"
        case .invalidHandle: "SCARD_E_INVALID_HANDLE"
        case .invalidParameter: "SCARD_E_INVALID_PARAMETER"
        case .invalidTarget: "SCARD_E_INVALID_TARGET"
        case .noMemory: "SCARD_E_NO_MEMORY"
        case .waitedTooLong: "SCARD_F_WAITED_TOO_LONG"
        case .insufficientBuffer: "SCARD_E_INSUFFICIENT_BUFFER"
        case .unknownReader: "SCARD_E_UNKNOWN_READER"
        case .timeout: "SCARD_E_TIMEOUT"
        case .sharingViolation: "SCARD_E_SHARING_VIOLATION"
        case .noSmartcard: "SCARD_E_NO_SMARTCARD"
        case .unknownCard: "SCARD_E_UNKNOWN_CARD"
        case .cannotDispose: "SCARD_E_CANT_DISPOSE"
        case .protocolMismatch: "SCARD_E_PROTO_MISMATCH"
        case .notReady: "SCARD_E_NOT_READY"
        case .invalidValue: "SCARD_E_INVALID_VALUE"
        case .systemCancelled: "SCARD_E_SYSTEM_CANCELLED"
        case .communicationError: "SCARD_F_COMM_ERROR"
        case .unknownError: "SCARD_F_UNKNOWN_ERROR"
        case .invalidATR: "SCARD_E_INVALID_ATR"
        case .notTransacted: "SCARD_E_NOT_TRANSACTED"
        case .readerUnavailable: "SCARD_E_READER_UNAVAILABLE"
        case .pciTooSmall: "SCARD_E_PCI_TOO_SMALL"
        case .readerUnsupported: "SCARD_E_READER_UNSUPPORTED"
        case .duplicateReader: "SCARD_E_DUPLICATE_READER"
        case .cardUnsupported: "SCARD_E_CARD_UNSUPPORTED"
        case .noService: "SCARD_E_NO_SERVICE"
        case .serviceStopped: "SCARD_E_SERVICE_STOPPED"
        case .unsupportedFeature: "SCARD_E_UNSUPPORTED_FEATURE"
        case .iccInstallation: "SCARD_E_ICC_INSTALLATION"
        case .iccCreateOrder: "SCARD_E_ICC_CREATEORDER"
        case .directoryNotFound: "SCARD_E_DIR_NOT_FOUND"
        case .fileNotFound: "SCARD_E_FILE_NOT_FOUND"
        case .noDirectory: "SCARD_E_NO_DIR"
        case .noFile: "SCARD_E_NO_FILE"
        case .noAccess: "SCARD_E_NO_ACCESS"
        case .writeTooMany: "SCARD_E_WRITE_TOO_MANY"
        case .badSeek: "SCARD_E_BAD_SEEK"
        case .invalidCHV: "SCARD_E_INVALID_CHV"
        case .unknownResourceManager: "SCARD_E_UNKNOWN_RES_MNG"
        case .noSuchCertificate: "SCARD_E_NO_SUCH_CERTIFICATE"
        case .certificateUnavailable: "SCARD_E_CERTIFICATE_UNAVAILABLE"
        case .noReadersAvailable: "SCARD_E_NO_READERS_AVAILABLE"
        case .communicationDataLost: "SCARD_E_COMM_DATA_LOST"
        case .noKeyContainer: "SCARD_E_NO_KEY_CONTAINER"
        case .serverTooBusy: "SCARD_E_SERVER_TOO_BUSY"
        case .unsupportedCard: "SCARD_W_UNSUPPORTED_CARD"
        case .unresponsiveCard: "SCARD_W_UNRESPONSIVE_CARD"
        case .unpoweredCard: "SCARD_W_UNPOWERED_CARD"
        case .resetCard: "SCARD_W_RESET_CARD"
        case .removedCard: "SCARD_W_REMOVED_CARD"
        case .securityViolation: "SCARD_W_SECURITY_VIOLATION"
        case .wrongCHV: "SCARD_W_WRONG_CHV"
        case .chvBlocked: "SCARD_W_CHV_BLOCKED"
        case .endOfFile: "SCARD_W_EOF"
        case .cancelledByUser: "SCARD_W_CANCELLED_BY_USER"
        case .cardNotAuthenticated: "SCARD_W_CARD_NOT_AUTHENTICATED"
        case .unknownCode: "unknown"
        case .malformedReply: "none"
        }
    }

    public var description: String {
        let sentence: String
        switch self {
        case .internalError:
            sentence =
                "An internal consistency check in pcsc-lite failed. Restart pcscd (sudo systemctl restart pcscd) and try again."
        case .cancelled:
            sentence = "The operation was cancelled by a call to SCardCancel."
        case .invalidHandle:
            sentence = "The PC/SC context or card handle is no longer valid; connect again."
        case .invalidParameter:
            sentence = "pcsc-lite refused a parameter as invalid; this is a bug in the caller."
        case .invalidTarget:
            sentence = "The registry start-up information is missing or invalid; reinstall pcscd."
        case .noMemory:
            sentence = "pcsc-lite ran out of memory; close other programs and try again."
        case .waitedTooLong:
            sentence = "An internal wait of pcsc-lite timed out; restart pcscd and try again."
        case .insufficientBuffer:
            sentence = "The answer did not fit the receive buffer; this is a bug in the caller."
        case .unknownReader:
            sentence = "No reader has that name; list the readers (cardtool readers) and use one of those names."
        case .timeout:
            sentence = "The wait ended before anything changed."
        case .sharingViolation:
            sentence =
                "Another application holds the card exclusively; close it (or wait for it to finish) and try again."
        case .noSmartcard:
            sentence = "There is no card in the reader; insert the card and try again."
        case .unknownCard:
            sentence = "The card name is not known to pcsc-lite."
        case .cannotDispose:
            sentence = "The reader cannot dispose of the card as asked (eject, reset or power down)."
        case .protocolMismatch:
            sentence = "The card does not speak the requested protocol (T=0 or T=1); connect allowing both."
        case .notReady:
            sentence = "The reader or card is not ready; wait a moment and try again."
        case .invalidValue:
            sentence = "pcsc-lite refused a value as invalid; this is a bug in the caller."
        case .systemCancelled:
            sentence = "The system cancelled the operation (log-off or shutdown)."
        case .communicationError:
            sentence = "Communication with pcscd failed; check pcscd is running (sudo pcscd) and try again."
        case .unknownError:
            sentence = "pcsc-lite reported an unknown internal error; restart pcscd and try again."
        case .invalidATR:
            sentence = "The card's answer to reset is invalid; reinsert the card, or try another one."
        case .notTransacted:
            sentence = "The reader did not complete the exchange; reinsert the card and try again."
        case .readerUnavailable:
            sentence = "The reader is unavailable (unplugged?); reconnect it and try again."
        case .pciTooSmall:
            sentence = "The protocol control information buffer is too small; this is a bug in the caller."
        case .readerUnsupported:
            sentence = "The reader driver does not support this operation."
        case .duplicateReader:
            sentence = "A reader of that name already exists."
        case .cardUnsupported:
            sentence = "The card is not supported by the reader."
        case .noService:
            sentence =
                "The smart card service (pcscd) is not running. Start it (sudo systemctl start pcscd.socket, or sudo pcscd) and try again; the next call re-establishes the connection to it."
        case .serviceStopped:
            sentence =
                "The smart card service (pcscd) stopped. Start it again (sudo pcscd); the next call re-establishes the connection to it."
        case .unsupportedFeature:
            sentence = "The reader or pcsc-lite does not support this feature."
        case .iccInstallation:
            sentence = "No primary provider is installed for the card."
        case .iccCreateOrder:
            sentence = "The requested order of object creation is not supported."
        case .directoryNotFound:
            sentence = "The card directory does not exist."
        case .fileNotFound:
            sentence = "The card file does not exist."
        case .noDirectory:
            sentence = "The path does not name a card directory."
        case .noFile:
            sentence = "The path does not name a card file."
        case .noAccess:
            sentence = "Access to the card file is denied."
        case .writeTooMany:
            sentence = "The card has no room for the data."
        case .badSeek:
            sentence = "Setting the card file pointer failed."
        case .invalidCHV:
            sentence = "The PIN is invalid."
        case .unknownResourceManager:
            sentence = "pcsc-lite returned an unrecognised error code."
        case .noSuchCertificate:
            sentence = "The requested certificate does not exist."
        case .certificateUnavailable:
            sentence = "The requested certificate could not be obtained."
        case .noReadersAvailable:
            sentence =
                "No card reader is connected; plug one in (or start the virtual readers: apt-get install vsmartcard-vpcd, restart pcscd) and try again."
        case .communicationDataLost:
            sentence = "Data were lost between the reader and the card; reinsert the card and try again."
        case .noKeyContainer:
            sentence = "The requested key container does not exist on the card."
        case .serverTooBusy:
            sentence = "pcscd is too busy to complete the operation; try again in a moment."
        case .unsupportedCard:
            sentence = "The reader cannot talk to this card (ATR configuration conflict); try another reader."
        case .unresponsiveCard:
            sentence = "The card does not answer reset; reinsert it (chip first, contacts up) and try again."
        case .unpoweredCard:
            sentence = "The card is not powered; reconnect to it."
        case .resetCard:
            sentence =
                "Another application reset the card: the selected application and verified PINs are gone. Select the application and verify the PIN again."
        case .removedCard:
            sentence = "The card was removed; insert it again and retry the whole operation."
        case .securityViolation:
            sentence = "Access was denied because of a security violation."
        case .wrongCHV:
            sentence = "The card refused the PIN."
        case .chvBlocked:
            sentence = "The PIN is blocked (閉塞) after too many wrong tries."
        case .endOfFile:
            sentence = "The end of the card file was reached."
        case .cancelledByUser:
            sentence = "The person cancelled the operation (on the reader's PIN pad)."
        case .cardNotAuthenticated:
            sentence = "No PIN was presented to the card."
        case .unknownCode(let code):
            sentence =
                "pcsc-lite returned the unknown code 0x\(String(UInt32(truncatingIfNeeded: code), radix: 16, uppercase: true))."
        case .malformedReply(let what):
            sentence = "pcsc-lite's answer could not be decoded: \(what)."
        }
        return code == 0 ? sentence : "\(sentence) (\(codeName))"
    }

    /// The card-link failure this error stands for, so flows can react whatever the transport.
    public var failure: CardTransportFailure {
        switch self {
        case .removedCard, .noSmartcard: .cardRemoved
        case .resetCard: .cardReset
        case .unresponsiveCard, .unpoweredCard, .communicationDataLost, .notTransacted: .cardUnresponsive
        case .readerUnavailable, .unknownReader, .noReadersAvailable: .readerUnavailable
        case .noService, .serviceStopped, .communicationError: .serviceUnavailable
        case .sharingViolation: .sharingViolation
        default: .other
        }
    }
}
