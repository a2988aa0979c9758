import ISO7816

#if canImport(CPCSCLite)
    import CPCSCLite
#endif

/// The transmission protocols a connection may use (`SCARD_PROTOCOL_*`).
public struct PCSCProtocols: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// T=0 (`SCARD_PROTOCOL_T0`).
    public static let t0 = PCSCProtocols(rawValue: 0x0001)
    /// T=1 (`SCARD_PROTOCOL_T1`).
    public static let t1 = PCSCProtocols(rawValue: 0x0002)
    /// Raw (`SCARD_PROTOCOL_RAW`).
    public static let raw = PCSCProtocols(rawValue: 0x0004)
    /// T=15 (`SCARD_PROTOCOL_T15`).
    public static let t15 = PCSCProtocols(rawValue: 0x0008)
    /// T=0 or T=1, whichever the card and reader agree on (`SCARD_PROTOCOL_ANY`).
    public static let any: PCSCProtocols = [.t0, .t1]

    public var description: String {
        var names: [String] = []
        if contains(.t0) { names.append("T=0") }
        if contains(.t1) { names.append("T=1") }
        if contains(.raw) { names.append("raw") }
        if contains(.t15) { names.append("T=15") }
        return names.isEmpty ? "none" : names.joined(separator: ", ")
    }

    /// The ISO7816 view of the active protocol.
    var transmissionProtocol: TransmissionProtocol {
        if self == .t0 { return .t0 }
        if self == .raw { return .raw }
        return .t1
    }
}

/// How a connection shares the card with other applications (`SCARD_SHARE_*`).
public enum ShareMode: UInt32, Sendable, Hashable {
    /// No other application may connect (`SCARD_SHARE_EXCLUSIVE`).
    case exclusive = 1
    /// Others may connect too; use transactions for exclusive sequences (`SCARD_SHARE_SHARED`).
    case shared = 2
    /// Talk to the reader, not the card (`SCARD_SHARE_DIRECT`); for `SCardControl` without a card.
    case direct = 3
}

/// What happens to the card when a connection ends or a transaction closes (`SCARD_*_CARD`).
public enum Disposition: UInt32, Sendable, Hashable {
    /// Leave the card as it is (`SCARD_LEAVE_CARD`): the default, as OpenSC does.
    case leave = 0
    /// Reset the card (`SCARD_RESET_CARD`): selected applications and verified PINs are gone.
    case reset = 1
    /// Power the card down (`SCARD_UNPOWER_CARD`).
    case unpower = 2
    /// Eject the card where the reader can (`SCARD_EJECT_CARD`).
    case eject = 3
}

/// The state of a reader as `SCardGetStatusChange` reports it (`SCARD_STATE_*`).
public struct ReaderState: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `SCARD_STATE_IGNORE`.
    public static let ignore = ReaderState(rawValue: 0x0001)
    /// `SCARD_STATE_CHANGED`.
    public static let changed = ReaderState(rawValue: 0x0002)
    /// `SCARD_STATE_UNKNOWN`: the reader is not known.
    public static let unknown = ReaderState(rawValue: 0x0004)
    /// `SCARD_STATE_UNAVAILABLE`.
    public static let unavailable = ReaderState(rawValue: 0x0008)
    /// `SCARD_STATE_EMPTY`: no card.
    public static let empty = ReaderState(rawValue: 0x0010)
    /// `SCARD_STATE_PRESENT`: a card is in the reader.
    public static let present = ReaderState(rawValue: 0x0020)
    /// `SCARD_STATE_ATRMATCH`.
    public static let atrMatch = ReaderState(rawValue: 0x0040)
    /// `SCARD_STATE_EXCLUSIVE`: an application holds the card exclusively.
    public static let exclusive = ReaderState(rawValue: 0x0080)
    /// `SCARD_STATE_INUSE`: an application is connected.
    public static let inUse = ReaderState(rawValue: 0x0100)
    /// `SCARD_STATE_MUTE`: the card does not answer.
    public static let mute = ReaderState(rawValue: 0x0200)
    /// `SCARD_STATE_UNPOWERED`.
    public static let unpowered = ReaderState(rawValue: 0x0400)

    public var description: String {
        let names: [(ReaderState, String)] = [
            (.unknown, "unknown"), (.unavailable, "unavailable"), (.empty, "empty"), (.present, "present"),
            (.exclusive, "exclusive"), (.inUse, "in use"), (.mute, "mute"), (.unpowered, "unpowered"),
        ]
        let set = names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: ", ")
    }
}

/// A reader and what is in it.
public struct ReaderStatus: Sendable, Hashable {
    /// The reader's name, as PC/SC lists it (`"Virtual PCD 00 00"`).
    public var name: String
    /// Its state.
    public var state: ReaderState
    /// The ATR of the card in it, empty when there is none.
    public var atr: [UInt8]

    /// Makes a status.
    public init(name: String, state: ReaderState, atr: [UInt8]) {
        self.name = name
        self.state = state
        self.atr = atr
    }

    /// Whether a card is in the reader.
    public var isCardPresent: Bool { state.contains(.present) }
}

/// What `SCardStatus` says of a connected card.
public struct CardStatus: Sendable, Hashable {
    /// The reader's name.
    public var readerName: String
    /// Whether the card is still present and powered (`SCARD_PRESENT`, `SCARD_POWERED`, `SCARD_SPECIFIC`…).
    public var rawState: UInt32
    /// The protocol in use.
    public var activeProtocol: PCSCProtocols
    /// The card's answer to reset.
    public var atr: [UInt8]
}

#if canImport(CPCSCLite)
    /// Checks a pcsc-lite return code.
    @inline(__always)
    func check(_ result: LONG) throws(PCSCError) {
        if result != SCARD_S_SUCCESS, let error = PCSCError(code: Int64(result)) { throw error }
    }

    /// Splits a multi-string (`"a\0b\0\0"`) into its strings.
    func splitMultiString(_ buffer: [CChar]) -> [String] {
        var names: [String] = []
        var current: [UInt8] = []
        for c in buffer {
            if c == 0 {
                if current.isEmpty { break }
                names.append(String(decoding: current, as: UTF8.self))
                current.removeAll()
            } else {
                current.append(UInt8(bitPattern: c))
            }
        }
        return names
    }
#endif
