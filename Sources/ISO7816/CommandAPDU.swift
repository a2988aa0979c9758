/// A command APDU (ISO/IEC 7816-4 §5.1): header, optional data (Nc bytes) and optional expected length (Ne).
///
/// The command carries *what* it asks for; ``encoded(extended:)`` picks the wire form: short where Nc ≤ 255 and
/// Ne ≤ 256, extended otherwise. Every limit is checked when the value is made, so an invalid command never
/// reaches a card and nothing traps:
///
/// ```swift
/// let select = try CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: aid)
/// let read = try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 256)  // Le = 00
/// ```
///
/// Mark a command that carries a secret (a PIN) as `sensitive`: its data then print as `<redacted>`.
public struct CommandAPDU: Sendable, Hashable, CustomStringConvertible {
    /// The four ISO 7816-4 command cases.
    public enum Case: Sendable, Hashable {
        /// No data, no response data expected.
        case case1
        /// No data, response data expected (Le present).
        case case2
        /// Data, no response data expected (Lc present).
        case case3
        /// Data and response data expected (Lc and Le present).
        case case4
    }

    /// Largest data field of a short APDU.
    public static let maxShortData = 255
    /// Largest Ne of a short APDU (Le = `00`).
    public static let maxShortExpectedLength = 256
    /// Largest data field of an extended APDU.
    public static let maxExtendedData = 65535
    /// Largest Ne of an extended APDU (Le = `00 00`).
    public static let maxExtendedExpectedLength = 65536

    /// The class byte (CLA).
    public let cla: UInt8
    /// The instruction byte (INS).
    public let ins: UInt8
    /// Parameter byte 1.
    public let p1: UInt8
    /// Parameter byte 2.
    public let p2: UInt8
    /// The command data field (Nc = `data.count` bytes).
    public private(set) var data: [UInt8]
    /// Ne, the most response data bytes expected, or `nil` when the command expects none.
    public let expectedLength: Int?
    /// Whether the data are a secret (a PIN): descriptions and traces then mask them.
    public let isSensitive: Bool

    /// Makes a command, checking every ISO 7816-4 limit.
    ///
    /// - Parameters:
    ///   - cla: The class byte; `00` for interindustry commands.
    ///   - ins: The instruction byte.
    ///   - p1: Parameter 1.
    ///   - p2: Parameter 2.
    ///   - data: The data field, at most 65535 bytes.
    ///   - expectedLength: Ne, 1...65536, or `nil` for no response data.
    ///   - sensitive: Whether the data are a secret that must never be printed.
    /// - Throws: ``ISO7816Error/dataTooLong(count:maximum:)`` or ``ISO7816Error/expectedLengthOutOfRange(_:)``.
    public init(
        cla: UInt8 = 0x00, ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8] = [],
        expectedLength: Int? = nil,
        sensitive: Bool = false
    ) throws(ISO7816Error) {
        guard data.count <= Self.maxExtendedData else {
            throw .dataTooLong(count: data.count, maximum: Self.maxExtendedData)
        }
        if let ne = expectedLength, !(1...Self.maxExtendedExpectedLength).contains(ne) {
            throw .expectedLengthOutOfRange(ne)
        }
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.expectedLength = expectedLength
        self.isSensitive = sensitive
    }

    /// Parses a command APDU as it travels on the wire (short or extended, any case).
    ///
    /// - Throws: ``ISO7816Error/malformedCommand(_:)`` when the length fields do not match the byte count.
    public init(bytes: [UInt8]) throws(ISO7816Error) {
        guard bytes.count >= 4 else {
            throw .malformedCommand("\(bytes.count) bytes, but a header has 4")
        }
        let body = bytes[4...]
        var data: [UInt8] = []
        var ne: Int?
        let n = body.count
        let b1 = body.first.map(Int.init)
        switch n {
        case 0:
            break  // case 1
        case 1:
            ne = b1 == 0 ? 256 : b1  // case 2S
        default:
            if b1 != 0 {
                // Short: case 3S (1 + Lc) or 4S (1 + Lc + 1).
                let lc = b1!
                if n == 1 + lc {
                    data = Array(body.dropFirst())
                } else if n == 2 + lc {
                    data = Array(body.dropFirst().dropLast())
                    let le = Int(body.last!)
                    ne = le == 0 ? 256 : le
                } else {
                    throw .malformedCommand("Lc is \(lc) but \(n - 1) bytes follow it")
                }
            } else if n == 3 {
                // Case 2E: 00 Le1 Le2.
                let le = Int(body[body.startIndex + 1]) << 8 | Int(body[body.startIndex + 2])
                ne = le == 0 ? 65536 : le
            } else {
                guard n >= 3 else { throw .malformedCommand("an extended length field needs 3 bytes") }
                let lc = Int(body[body.startIndex + 1]) << 8 | Int(body[body.startIndex + 2])
                guard lc > 0 else { throw .malformedCommand("extended Lc of zero") }
                if n == 3 + lc {
                    data = Array(body.dropFirst(3))
                } else if n == 5 + lc {
                    data = Array(body.dropFirst(3).dropLast(2))
                    let le = Int(body[body.endIndex - 2]) << 8 | Int(body[body.endIndex - 1])
                    ne = le == 0 ? 65536 : le
                } else {
                    throw .malformedCommand("extended Lc is \(lc) but \(n - 3) bytes follow it")
                }
            }
        }
        try self.init(
            cla: bytes[0], ins: bytes[1], p1: bytes[2], p2: bytes[3], data: data, expectedLength: ne)
    }

    /// The ISO 7816-4 case of this command.
    public var apduCase: Case {
        switch (data.isEmpty, expectedLength == nil) {
        case (true, true): .case1
        case (true, false): .case2
        case (false, true): .case3
        case (false, false): .case4
        }
    }

    /// Whether the command only fits in an extended APDU.
    public var needsExtendedLength: Bool {
        data.count > Self.maxShortData || (expectedLength ?? 0) > Self.maxShortExpectedLength
    }

    /// The command's wire bytes.
    ///
    /// - Parameter extended: `nil` picks short where the command fits and extended otherwise; `true` forces
    ///   extended length fields; `false` demands short ones.
    /// - Throws: ``ISO7816Error/extendedLengthUnavailable`` when `extended` is `false` but the command does not
    ///   fit a short APDU.
    public func encoded(extended: Bool? = nil) throws(ISO7816Error) -> [UInt8] {
        let useExtended: Bool
        switch extended {
        case nil: useExtended = needsExtendedLength
        case true?: useExtended = apduCase != .case1
        case false?:
            guard !needsExtendedLength else { throw .extendedLengthUnavailable }
            useExtended = false
        }
        var out: [UInt8] = [cla, ins, p1, p2]
        out.reserveCapacity(4 + 3 + data.count + 3)
        if useExtended {
            if !data.isEmpty {
                out.append(0)
                out.append(UInt8(data.count >> 8))
                out.append(UInt8(data.count & 0xFF))
                out.append(contentsOf: data)
            }
            if let ne = expectedLength {
                if data.isEmpty { out.append(0) }
                let le = ne == 65536 ? 0 : ne
                out.append(UInt8(le >> 8))
                out.append(UInt8(le & 0xFF))
            }
        } else {
            if !data.isEmpty {
                out.append(UInt8(data.count))
                out.append(contentsOf: data)
            }
            if let ne = expectedLength {
                out.append(ne == 256 ? 0 : UInt8(ne))
            }
        }
        return out
    }

    /// The same command with another Ne (used to resend on `6Cxx`).
    public func with(expectedLength: Int?) throws(ISO7816Error) -> CommandAPDU {
        try CommandAPDU(
            cla: cla, ins: ins, p1: p1, p2: p2, data: data, expectedLength: expectedLength,
            sensitive: isSensitive)
    }

    /// The same command with another class byte (for example with the chaining bit `0x10` set).
    public func with(cla: UInt8) -> CommandAPDU {
        // Limits were checked when `self` was made and do not depend on the class byte.
        CommandAPDU(unchecked: cla, ins, p1, p2, data, expectedLength, isSensitive)
    }

    /// Overwrites the data field with zeros in place and empties it.
    ///
    /// Call it on a sensitive command (a VERIFY carrying a PIN) once it has been sent. Copies of `data` made
    /// before the call keep their bytes; keep the command the only owner of its data.
    public mutating func wipeData() {
        data.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = 0 }
        }
        data.removeAll()
    }

    /// The same command with its data overwritten by zeros when it is sensitive (for tracers and logs).
    var masked: CommandAPDU {
        guard isSensitive, !data.isEmpty else { return self }
        return CommandAPDU(
            unchecked: cla, ins, p1, p2, [UInt8](repeating: 0, count: data.count), expectedLength, true)
    }

    init(
        unchecked cla: UInt8, _ ins: UInt8, _ p1: UInt8, _ p2: UInt8, _ data: [UInt8], _ ne: Int?,
        _ sensitive: Bool
    ) {
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.expectedLength = ne
        self.isSensitive = sensitive
    }

    /// The header and lengths in hex, with the data masked when the command is sensitive.
    public var description: String {
        let header = Hex.encode([cla, ins, p1, p2])
        var text = header
        if !data.isEmpty {
            text += " Lc=\(data.count) " + (isSensitive ? "<redacted>" : Hex.encode(data))
        }
        if let ne = expectedLength { text += " Ne=\(ne)" }
        return text
    }
}
