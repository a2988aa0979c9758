// What the example tools share: reader choice, error reporting with exit codes, PEM text, aligned tables.

import Foundation
public import PCSC
public import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Errors of the tools' shared parts.
public enum ToolSupportError: Error, CustomStringConvertible {
    /// No reader holds a card.
    case noReaderWithCard
    /// Several readers hold a card.
    case severalReadersWithCards([String])
    /// There is no terminal to prompt on.
    case noTerminal
    /// Standard input was empty.
    case noPINOnStandardInput
    /// A file held no PEM certificate.
    case noCertificates(String)

    public var description: String {
        switch self {
        case .noReaderWithCard:
            "No reader holds a card; insert the card, or name the reader with --reader."
        case .severalReadersWithCards(let names):
            "Several readers hold a card (\(names.joined(separator: ", "))); choose one with --reader."
        case .noTerminal:
            "There is no terminal to ask for the PIN on; give it on standard input with --pin-stdin."
        case .noPINOnStandardInput:
            "Standard input held no PIN; write the PIN on its first line."
        case .noCertificates(let path):
            "\(path) holds no PEM certificate."
        }
    }
}

/// The reader asked for, or the only one holding a card.
public func chooseReader(context: PCSCContext, requested: String?) async throws -> String {
    if let requested { return requested }
    let withCards = try await context.readerStatuses().filter(\.isCardPresent).map(\.name)
    guard let first = withCards.first else { throw ToolSupportError.noReaderWithCard }
    guard withCards.count == 1 else { throw ToolSupportError.severalReadersWithCards(withCards) }
    return first
}

/// Runs a command; prints an error as one sentence on standard error and exits 1 (refused) or 2 (other).
public func runReportingErrors(tool: String, isRefusal: (any Error) -> Bool, _ body: () async throws -> Void) async {
    do {
        try await body()
    } catch {
        FileHandle.standardError.write(Data("\(tool): \(messageWithAdvice(error))\n".utf8))
        exit(isRefusal(error) ? 1 : 2)
    }
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
