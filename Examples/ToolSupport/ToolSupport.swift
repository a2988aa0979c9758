// What the example tools share: reader choice, error reporting with exit codes, PEM text, aligned tables.

import ArgumentParser
import Foundation
public import PCSC
public import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Errors of the tools' shared parts.
public enum ToolSupportError: Error, CustomStringConvertible, ToolError {
    /// No reader holds a card.
    case noReaderWithCard
    /// Several readers hold a card.
    case severalReadersWithCards([String])
    /// No reader holds a card of the kind the tool needs (a My Number card); `others` hold other cards.
    case noReaderWithSuitableCard(kind: String, others: [String])
    /// Several readers hold a card of the kind the tool needs.
    case severalReadersWithSuitableCards(kind: String, [String])
    /// `--reader` names no reader: an index out of range, or text no reader's name contains.
    case unknownReader(String, readers: [String])
    /// `--reader` text that several readers' names contain.
    case ambiguousReader(String, matches: [String])
    /// There is no reader at all.
    case noReaders
    /// There is no terminal to prompt on.
    case noTerminal
    /// Standard input was empty.
    case noPINOnStandardInput
    /// A file held no PEM certificate.
    case noCertificates(String)

    public var exitStatus: ExitStatus {
        switch self {
        case .unknownReader, .ambiguousReader: .usage
        default: .failed
        }
    }

    public var description: String {
        switch self {
        case .noReaderWithCard:
            "No reader holds a card; insert the card, or name the reader with --reader."
        case .severalReadersWithCards(let names):
            "Several readers hold a card (\(ReaderChoice.list(names))); choose one with --reader (its number or "
                + "part of its name)."
        case .noReaderWithSuitableCard(let kind, let others):
            others.isEmpty
                ? "No reader holds a card; insert the \(kind), or name the reader with --reader."
                : "No reader holds a \(kind) (the card in \(ReaderChoice.list(others)) is another kind); insert it, "
                    + "or name the reader with --reader."
        case .severalReadersWithSuitableCards(let kind, let names):
            "Several readers hold a \(kind) (\(ReaderChoice.list(names))); choose one with --reader (its number or "
                + "part of its name)."
        case .unknownReader(let requested, let readers):
            readers.isEmpty
                ? "There is no reader \(requested): no reader is connected; connect one and check that pcscd runs."
                : "There is no reader \(requested); the readers are \(ReaderChoice.list(readers)) (give the number "
                    + "`cardtool readers` prints, or part of the name)."
        case .ambiguousReader(let requested, let matches):
            "--reader \(requested) matches several readers (\(ReaderChoice.list(matches))); give more of the name, "
                + "or the number."
        case .noReaders:
            "No reader is connected; connect one and check that pcscd runs."
        case .noTerminal:
            "There is no terminal to ask on; give the PIN on standard input with --pin-stdin, or --yes to confirm."
        case .noPINOnStandardInput:
            "Standard input held no PIN; write the PIN on its first line."
        case .noCertificates(let path):
            "\(path) holds no PEM certificate."
        }
    }
}

/// Readers as people name them: the number `cardtool readers` prints, a unique part of the name, or none (the
/// reader holding the card).
public enum ReaderChoice {
    /// What to do when no reader is named.
    public enum Default: Sendable {
        /// The only reader holding a card.
        case readerHoldingCard
        /// The only reader connected, card or not (a flow that waits for the card to be inserted); else the only
        /// reader holding a card.
        case onlyReaderOrReaderHoldingCard
    }

    /// The reader `requested` names, or the default one. `accepts`, when given, probes a reader holding a card
    /// (such as: is the JPKI application there?); it is asked only when several readers hold cards, and `kind`
    /// names the card in the errors.
    public static func resolve(
        _ requested: String?, context: PCSCContext, default rule: Default = .readerHoldingCard,
        kind: String = "card", accepts: ((String) async -> Bool)? = nil
    ) async throws -> String {
        let statuses = try await context.readerStatuses()
        let names = statuses.map(\.name)
        if let requested {
            return try named(requested, among: names)
        }
        if rule == .onlyReaderOrReaderHoldingCard, names.count == 1 { return names[0] }
        let withCards = statuses.filter(\.isCardPresent).map(\.name)
        if withCards.count == 1 { return withCards[0] }
        guard !withCards.isEmpty else {
            throw names.isEmpty
                ? ToolSupportError.noReaders
                : (accepts == nil
                    ? ToolSupportError.noReaderWithCard
                    : ToolSupportError.noReaderWithSuitableCard(kind: kind, others: []))
        }
        guard let accepts else { throw ToolSupportError.severalReadersWithCards(withCards) }
        var suitable: [String] = []
        for name in withCards where await accepts(name) { suitable.append(name) }
        guard suitable.count == 1 else {
            throw suitable.isEmpty
                ? ToolSupportError.noReaderWithSuitableCard(kind: kind, others: withCards)
                : ToolSupportError.severalReadersWithSuitableCards(kind: kind, suitable)
        }
        return suitable[0]
    }

    /// The reader `requested` names among `names`: a number is an index (as `cardtool readers` prints), else the
    /// exact name, else the one name that contains it (case-insensitively).
    public static func named(_ requested: String, among names: [String]) throws -> String {
        if let index = Int(requested), requested.allSatisfy(\.isASCII) {
            guard names.indices.contains(index) else { throw ToolSupportError.unknownReader(requested, readers: names) }
            return names[index]
        }
        if names.contains(requested) { return requested }
        let matches = names.filter { $0.range(of: requested, options: .caseInsensitive) != nil }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw ToolSupportError.unknownReader(requested, readers: names)
        default: throw ToolSupportError.ambiguousReader(requested, matches: matches)
        }
    }

    /// Reader names for a sentence: `"A", "B"`.
    static func list(_ names: [String]) -> String {
        names.map { "\"\($0)\"" }.joined(separator: ", ")
    }
}

/// The reader asked for, or the only one holding a card.
public func chooseReader(context: PCSCContext, requested: String?) async throws -> String {
    try await ReaderChoice.resolve(requested, context: context)
}

/// Certificates as PEM text.
public enum PEMText {
    /// One certificate's DER as a PEM block.
    public static func certificate(_ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(64))
            rest = rest.dropFirst(64)
        }
        return "-----BEGIN CERTIFICATE-----\n" + lines.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
    }

    /// Every certificate of a PEM text.
    public static func certificates(in text: String, source: String) throws -> [Certificate] {
        let marker = "-----END CERTIFICATE-----"
        let blocks = text.components(separatedBy: marker).dropLast().map { $0 + marker }
        let certificates = try blocks.map { try Certificate(pemEncoded: String($0.drop { $0 != "-" })) }
        guard !certificates.isEmpty else { throw ToolSupportError.noCertificates(source) }
        return certificates
    }
}

/// Text laid out for a terminal, measuring Japanese text by its display width (full-width characters take two
/// columns).
public enum TerminalText {
    /// The number of terminal columns `text` takes: East Asian wide and full-width characters count two,
    /// combining marks zero.
    public static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in width + columns(of: scalar) }
    }

    static func columns(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return 0
        default: break
        }
        let wide: [ClosedRange<UInt32>] = [
            0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
        ]
        return wide.contains { $0.contains(value) } ? 2 : 1
    }

    /// `text` padded with spaces to `width` columns.
    public static func padded(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - displayWidth(text)))
    }

    /// Rows of cells in aligned columns, separated by two spaces; the last column is not padded.
    public static func table(_ rows: [[String]]) -> String {
        let columnCount = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columnCount)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], displayWidth(cell)) }
        }
        return rows.map { row in
            var line = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : padded(cell, to: widths[index])
            }.joined(separator: "  ")
            // A row whose last cells are empty (a section heading) ends without padding.
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
