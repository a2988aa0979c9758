/// An answer to reset (ISO/IEC 7816-3:2006 §8): what a card says about itself when it powers up.
///
/// ```swift
/// let atr = try ATR(bytes: Hex.decode("3B E0 00 FF 81 31 FE 45 14"))
/// atr.protocols          // [1]
/// atr.checksum           // .valid(0x14)
/// print(atr.summary)     // "TS = 3B direct convention" …
/// ```
///
/// Parsing follows the chain of interface bytes: T0 says which of TA1, TB1, TC1, TD1 follow and how many
/// historical bytes there are; each TDi names a protocol and which bytes of the next group follow. The check
/// byte TCK must be present when any protocol other than T=0 is indicated, and then the exclusive-or of T0 to
/// TCK is zero; a wrong TCK is reported by ``checksum``, not thrown, so a tool can still show the rest.
public struct ATR: Sendable, Hashable, CustomStringConvertible {
    /// The bit convention announced by TS.
    public enum Convention: Sendable, Hashable {
        /// TS = `3B`: a high level is 1, least significant bit first.
        case direct
        /// TS = `3F`: a low level is 1, most significant bit first.
        case inverse
    }

    /// One group of interface bytes: TAi, TBi, TCi and TDi for one `i`.
    public struct InterfaceBytes: Sendable, Hashable {
        /// The group number `i`, from 1.
        public let index: Int
        /// The protocol type T these bytes belong to, from TD(i-1); `nil` for group 1 (global bytes).
        /// `15` marks global interface bytes.
        public let protocolType: Int?
        /// TAi, when present.
        public let ta: UInt8?
        /// TBi, when present.
        public let tb: UInt8?
        /// TCi, when present.
        public let tc: UInt8?
        /// TDi, when present: its high nibble says which bytes of group i+1 follow, its low nibble the protocol.
        public let td: UInt8?
    }

    /// The check byte TCK and whether it matches.
    public enum Checksum: Sendable, Hashable {
        /// No TCK: only T=0 is indicated.
        case absent
        /// TCK is present and the exclusive-or of T0 to TCK is zero.
        case valid(UInt8)
        /// TCK is present but wrong; `expected` is the value that would have made it right.
        case invalid(UInt8, expected: UInt8)
    }

    /// The ATR's bytes, TS to TCK.
    public let bytes: [UInt8]
    /// The convention from TS.
    public let convention: Convention
    /// The format byte T0: Y1 in the high nibble, K (the number of historical bytes) in the low one.
    public let formatByte: UInt8
    /// The interface byte groups, in order (group 1 holds TA1 to TD1). Empty when T0 announces none.
    public let interfaceBytes: [InterfaceBytes]
    /// The historical bytes (T1 to TK).
    public let historicalBytes: [UInt8]
    /// The check byte TCK and whether it is right.
    public let checksum: Checksum

    /// The longest ATR ISO 7816-3 allows: TS and 32 further bytes.
    public static let maximumLength = 33

    /// Parses an ATR as a reader reports it (PC/SC gives inverse-convention bytes already decoded, after `3F`).
    ///
    /// - Throws: ``ISO7816Error/malformedATR(_:)`` when TS is neither `3B` nor `3F`, bytes announced by T0 or a
    ///   TDi are missing, a required TCK is missing, bytes follow the ATR, or it is longer than 33 bytes.
    public init(bytes: [UInt8]) throws(ISO7816Error) {
        guard let ts = bytes.first else { throw .malformedATR("it is empty") }
        switch ts {
        case 0x3B: convention = .direct
        case 0x3F: convention = .inverse
        default:
            throw .malformedATR(
                "TS is \(Hex.encode([ts])), but only 3B (direct) and 3F (inverse) are defined")
        }
        guard bytes.count <= Self.maximumLength else {
            throw .malformedATR(
                "it has \(bytes.count) bytes, but at most \(Self.maximumLength) are allowed")
        }
        guard bytes.count >= 2 else { throw .malformedATR("T0 is missing after TS") }
        let t0 = bytes[1]
        var index = 2
        var groups: [InterfaceBytes] = []
        var presence = t0 >> 4
        var protocolType: Int?
        var needsTCK = false
        var groupIndex = 1
        func next(_ name: String) throws(ISO7816Error) -> UInt8 {
            guard index < bytes.count else {
                throw .malformedATR("\(name) is announced but the ATR ends after \(bytes.count) bytes")
            }
            defer { index += 1 }
            return bytes[index]
        }
        while presence != 0 {
            let i = groupIndex
            let ta = presence & 0x1 != 0 ? try next("TA\(i)") : nil
            let tb = presence & 0x2 != 0 ? try next("TB\(i)") : nil
            let tc = presence & 0x4 != 0 ? try next("TC\(i)") : nil
            let td = presence & 0x8 != 0 ? try next("TD\(i)") : nil
            groups.append(
                InterfaceBytes(index: i, protocolType: protocolType, ta: ta, tb: tb, tc: tc, td: td))
            guard let td else { break }
            let t = Int(td & 0x0F)
            if t != 0 { needsTCK = true }
            protocolType = t
            presence = td >> 4
            groupIndex += 1
        }
        let k = Int(t0 & 0x0F)
        guard bytes.count - index >= k else {
            throw .malformedATR(
                "T0 announces \(k) historical bytes but only \(bytes.count - index) follow")
        }
        historicalBytes = Array(bytes[index..<(index + k)])
        index += k
        if needsTCK {
            guard index < bytes.count else {
                throw .malformedATR(
                    "TCK is missing, but it is required when a protocol other than T=0 is offered")
            }
            let tck = bytes[index]
            let expected = bytes[1..<index].reduce(0, ^)
            checksum = expected == tck ? .valid(tck) : .invalid(tck, expected: expected)
            index += 1
        } else {
            checksum = .absent
        }
        guard index == bytes.count else {
            let extra = bytes.count - index
            throw .malformedATR(
                "\(extra) unexpected \(extra == 1 ? "byte follows" : "bytes follow") the end of the ATR")
        }
        self.bytes = bytes
        self.formatByte = t0
        self.interfaceBytes = groups
    }

    /// The protocol types T indicated by TD1, TD2, … in order, without repeats and without 15 (which marks
    /// global bytes, not a protocol); `[0]` when there is no TD1. The first is the card's default protocol.
    public var protocols: [Int] {
        var result: [Int] = []
        for group in interfaceBytes {
            guard let td = group.td else { continue }
            let t = Int(td & 0x0F)
            if t != 15, !result.contains(t) { result.append(t) }
        }
        return result.isEmpty ? [0] : result
    }

    /// Whether some TDi indicates T=15, that is, global interface bytes follow.
    public var indicatesGlobalInterfaceBytes: Bool {
        interfaceBytes.contains { $0.td.map { $0 & 0x0F == 15 } ?? false }
    }

    /// The transmission protocols this library can use over the card, in the card's order.
    public var transmissionProtocols: [TransmissionProtocol] {
        protocols.compactMap { $0 == 0 ? .t0 : $0 == 1 ? .t1 : nil }
    }

    /// TA1, when present: Fi in its high nibble and Di in its low one.
    public var ta1: UInt8? { interfaceBytes.first?.ta }

    /// Fi, the clock rate conversion integer from TA1 (372 … 2048); `nil` when TA1 is absent (the default is
    /// then 372) or its high nibble is reserved for future use.
    public var clockRateConversion: Int? {
        guard let ta1 else { return nil }
        return Self.fiTable[Int(ta1 >> 4)]?.fi
    }

    /// f(max), the highest clock frequency in kHz that goes with Fi (4000 … 20000); `nil` when
    /// ``clockRateConversion`` is.
    public var maximumClockFrequencyKHz: Int? {
        guard let ta1 else { return nil }
        return Self.fiTable[Int(ta1 >> 4)]?.fMaxKHz
    }

    /// Di, the baud rate adjustment integer from TA1 (1 … 64); `nil` when TA1 is absent (the default is then 1)
    /// or its low nibble is reserved for future use.
    public var baudRateAdjustment: Int? {
        guard let ta1 else { return nil }
        return Self.diTable[Int(ta1 & 0x0F)]
    }

    /// ISO 7816-3 table 7: Fi and f(max) for each value of the high nibble of TA1.
    static let fiTable: [(fi: Int, fMaxKHz: Int)?] = [
        (372, 4000), (372, 5000), (558, 6000), (744, 8000), (1116, 12000), (1488, 16000), (1860, 20000),
        nil,
        nil, (512, 5000), (768, 7500), (1024, 10000), (1536, 15000), (2048, 20000), nil, nil,
    ]

    /// ISO 7816-3 table 8: Di for each value of the low nibble of TA1.
    static let diTable: [Int?] = [nil, 1, 2, 4, 8, 16, 32, 64, 12, 20, nil, nil, nil, nil, nil, nil]

    /// The ATR in hex (`"3B E0 00 FF 81 31 FE 45 14"`).
    public var description: String { Hex.encode(bytes) }

    /// A reading of the ATR for people, one fact per line, as `cardtool atr` prints it:
    ///
    /// ```
    /// TS = 3B direct convention
    /// T0 = E0: TB1 TC1 TD1 present, 0 historical bytes
    /// …
    /// protocols: T=1
    /// historical bytes: none
    /// TCK = 14 (correct)
    /// ```
    public var summary: String {
        var lines: [String] = []
        let ts = bytes[0]
        lines.append(
            "TS = \(Hex.encode([ts])) \(convention == .direct ? "direct" : "inverse") convention")
        let y1 = Self.presentNames(formatByte >> 4, group: 1)
        let k = historicalBytes.count
        lines.append(
            "T0 = \(Hex.encode([formatByte])): \(y1.isEmpty ? "no interface bytes" : y1 + " present"), "
                + "\(k) historical \(k == 1 ? "byte" : "bytes")")
        for group in interfaceBytes {
            let i = group.index
            if let ta = group.ta {
                lines.append("TA\(i) = \(Hex.encode([ta])): \(explainTA(ta, group: group))")
            }
            if let tb = group.tb {
                lines.append("TB\(i) = \(Hex.encode([tb])): \(explainTB(tb, group: group))")
            }
            if let tc = group.tc {
                lines.append("TC\(i) = \(Hex.encode([tc])): \(explainTC(tc, group: group))")
            }
            if let td = group.td {
                let next = Self.presentNames(td >> 4, group: i + 1)
                let t = td & 0x0F
                let kind = t == 15 ? "T=15 (global interface bytes follow)" : "protocol T=\(t)"
                lines.append(
                    "TD\(i) = \(Hex.encode([td])): \(kind), \(next.isEmpty ? "last group" : "next " + next)")
            }
        }
        var protocolsLine = "protocols: " + protocols.map { "T=\($0)" }.joined(separator: ", ")
        if interfaceBytes.first?.td == nil { protocolsLine += " (no TD1: T=0 by default)" }
        if indicatesGlobalInterfaceBytes { protocolsLine += "; T=15 global interface bytes" }
        lines.append(protocolsLine)
        lines.append("historical bytes: " + Self.describeHistorical(historicalBytes))
        switch checksum {
        case .absent: lines.append("TCK absent (only T=0 offered)")
        case .valid(let tck): lines.append("TCK = \(Hex.encode([tck])) (correct)")
        case .invalid(let tck, let expected):
            lines.append("TCK = \(Hex.encode([tck])) (wrong: expected \(Hex.encode([expected])))")
        }
        return lines.joined(separator: "\n")
    }

    private static func presentNames(_ nibble: UInt8, group: Int) -> String {
        var names: [String] = []
        if nibble & 0x1 != 0 { names.append("TA\(group)") }
        if nibble & 0x2 != 0 { names.append("TB\(group)") }
        if nibble & 0x4 != 0 { names.append("TC\(group)") }
        if nibble & 0x8 != 0 { names.append("TD\(group)") }
        return names.joined(separator: " ")
    }

    private func explainTA(_ ta: UInt8, group: InterfaceBytes) -> String {
        switch (group.index, group.protocolType) {
        case (1, _):
            let f = Self.fiTable[Int(ta >> 4)]
            let d = Self.diTable[Int(ta & 0x0F)]
            let fText =
                f.map { "Fi = \($0.fi), f(max) = \(Double($0.fMaxKHz) / 1000) MHz" } ?? "Fi reserved"
            return fText + ", " + (d.map { "Di = \($0)" } ?? "Di reserved")
        case (2, _):
            let t = ta & 0x0F
            return "specific mode, protocol T=\(t)"
                + (ta & 0x80 != 0 ? ", mode cannot change" : ", mode can change")
                + (ta & 0x10 != 0 ? ", implicit Fi/Di" : ", Fi/Di from TA1")
        case (_, 1?): return "T=1 IFSC = \(ta == 0xFF ? "254 (FF is reserved)" : String(ta)) bytes"
        case (_, 15?):
            return
                "clock stop \(["not supported", "state L", "state H", "no preference"][Int(ta >> 6)]), "
                + "class indicator \(Hex.encode([ta & 0x3F]))"
        default: return "specific to T=\(group.protocolType ?? 0)"
        }
    }

    private func explainTB(_ tb: UInt8, group: InterfaceBytes) -> String {
        switch (group.index, group.protocolType) {
        case (1, _), (2, _): return "programming voltage (deprecated)"
        case (_, 1?): return "T=1 BWI = \(tb >> 4), CWI = \(tb & 0x0F)"
        case (_, 15?): return "SPU \(Hex.encode([tb]))"
        default: return "specific to T=\(group.protocolType ?? 0)"
        }
    }

    private func explainTC(_ tc: UInt8, group: InterfaceBytes) -> String {
        switch (group.index, group.protocolType) {
        case (1, _):
            return tc == 0xFF
                ? "extra guard time N = 255 (minimum guard time: 12 etu for T=0, 11 etu for T=1)"
                : "extra guard time N = \(tc) etu"
        case (2, _): return "T=0 waiting time integer WI = \(tc)"
        case (_, 1?): return "T=1 error detection code \(tc & 0x01 == 0 ? "LRC" : "CRC")"
        default: return "specific to T=\(group.protocolType ?? 0)"
        }
    }

    private static func describeHistorical(_ bytes: [UInt8]) -> String {
        guard let category = bytes.first else { return "none" }
        var text = Hex.encode(bytes)
        if bytes.allSatisfy({ (0x20...0x7E).contains($0) }) {
            text += " (\"" + String(decoding: bytes, as: UTF8.self) + "\")"
        } else {
            switch category {
            case 0x00: text += " (category 00: COMPACT-TLV objects, then a status indicator)"
            case 0x10: text += " (category 10: DIR data reference)"
            case 0x80: text += " (category 80: COMPACT-TLV objects)"
            default: text += " (proprietary format)"
            }
        }
        return text
    }
}
