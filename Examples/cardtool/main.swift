// cardtool: list readers, watch card events, send APDUs and read ATRs over PC/SC. A thin example over the ISO7816
// and PCSC modules; it behaves like the pcsc-tools and OpenSC command lines (hex in, hex out, exit codes).

import ArgumentParser
import Foundation
import ISO7816
import PCSC
import ToolSupport

@main
struct CardTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cardtool",
        abstract: "Talk to smart cards over PC/SC.",
        discussion: """
            A reader is named with --reader: its number in `cardtool readers`, its name, or a part of the name that \
            only one reader's name contains. Without --reader, the only reader holding a card.

            \(ExitStatus.helpText)
            For `send`, 1 means the card's last status word is not 90 00.

            \(ExitStatus.commonOptionsText)
            """,
        version: ToolVersion.current,
        subcommands: [Readers.self, Watch.self, Send.self, ATRCommand.self]
    )

    static func main() async {
        await ToolMain.run(Self.self, tool: "cardtool") { _ in .failed }
    }
}

struct Readers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the readers, whether a card is in each, and its ATR.",
        discussion: """
            Each line: the reader's number (what --reader takes), its name, and "card present" with the ATR or \
            "no card".

            With --json, one document:
              {"readers": [{"index": 0, "name": "…", "cardPresent": true, "atr": "3B8…"}]}
            atr is upper-case hex without spaces, null without a card; keys sorted.
            """)

    @Flag(name: .long, help: "Print JSON (documented in --help) instead of lines.")
    var json = false

    struct Document: Encodable {
        struct Reader: Encodable {
            var index: Int
            var name: String
            var cardPresent: Bool
            var atr: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(index, forKey: .index)
                try container.encode(name, forKey: .name)
                try container.encode(cardPresent, forKey: .cardPresent)
                try container.encode(atr, forKey: .atr)  // null without a card, not left out
            }
            enum CodingKeys: String, CodingKey { case index, name, cardPresent, atr }
        }
        var readers: [Reader]
    }

    func run() async throws {
        let context = try PCSCContext()
        let readers = try await context.readerStatuses()
        if json {
            try JSONOutput.print(
                Document(
                    readers: readers.enumerated().map { index, reader in
                        Document.Reader(
                            index: index, name: reader.name, cardPresent: reader.isCardPresent,
                            atr: reader.isCardPresent
                                ? Hex.encode(reader.atr).replacingOccurrences(of: " ", with: "") : nil
                        )
                    }))
            return
        }
        if readers.isEmpty {
            print("no readers")
            return
        }
        for (index, reader) in readers.enumerated() {
            if reader.isCardPresent {
                print("\(index): \(reader.name)\tcard present\t\(Hex.encode(reader.atr))")
            } else {
                print("\(index): \(reader.name)\tno card")
            }
        }
    }
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print reader and card events (insert, remove, reader added or removed) until interrupted.")

    @Flag(name: .long, help: "Do not print the readers and cards present at start.")
    var changesOnly = false

    func run() async throws {
        let watcher = Task {
            for try await event in ReaderEvents(includeCurrentState: !changesOnly) {
                // Unbuffered, so a pipe (`cardtool watch | grep …`) sees each event as it happens.
                FileHandle.standardOutput.write(Data("\(event)\n".utf8))
            }
        }
        let interrupts = [SIGINT, SIGTERM].map { signalNumber -> any DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { watcher.cancel() }
            source.resume()
            return source
        }
        defer { interrupts.forEach { $0.cancel() } }
        do {
            try await watcher.value
        } catch is CancellationError {
        }
    }
}

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send command APDUs (hex) to a card and print each answer.",
        discussion: """
            Each APDU goes through a CardChannel: 61xx answers are collected with GET RESPONSE and 6Cxx answers \
            resent with the right Le. Exit status 1 when the last status word is not 90 00.
            Example: cardtool send "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01" 00B0000004
            An APDU that is not hex, or not a command APDU, is a usage error (exit 64): nothing is sent.
            """)

    @Option(
        name: .long,
        help:
            "The reader: its number in `cardtool readers`, or a unique part of its name (default: the one holding a card)."
    )
    var reader: String?

    @Argument(help: "Command APDUs in hex (spaces and colons allowed inside one quoted argument).")
    var apdus: [String]

    func run() async throws {
        let commands = try apdus.enumerated().map { index, text in
            do {
                return try CommandAPDU(bytes: Hex.decode(text))
            } catch {
                throw UsageError("APDU \(index + 1) (\(text)) cannot be sent: \(error)")
            }
        }
        let context = try PCSCContext()
        let name = try await ReaderChoice.resolve(reader, context: context)
        let card = try await context.connect(to: name)
        let channel = CardChannel(transport: card)
        let last = try await card.withTransaction { _ in
            var status = StatusWord.success
            for command in commands {
                let response = try await channel.transmit(command)
                print("> \(command)")
                if !response.data.isEmpty { print("< \(Hex.encode(response.data))") }
                print("< \(response.statusWord)")
                status = response.statusWord
            }
            return status
        }
        await card.disconnect()
        if !last.isSuccess { throw ExitCode(ExitStatus.refused.rawValue) }
    }
}

struct ATRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atr",
        abstract: "Explain an ATR: given in hex, or read from the card in a reader.",
        discussion: "The card's name comes from pcsc-tools' list (/usr/share/pcsc/smartcard_list.txt) when installed.")

    @Option(
        name: .long,
        help:
            "The reader whose card to read (when no ATR is given): its number in `cardtool readers`, or part of its name."
    )
    var reader: String?

    @Argument(help: "The ATR in hex; read from a card when omitted.")
    var atr: String?

    func run() async throws {
        let bytes: [UInt8]
        if let atr {
            do {
                bytes = try Hex.decode(atr)
                _ = try ATR(bytes: bytes)
            } catch {
                throw UsageError("The ATR \(atr) cannot be read: \(error)")
            }
        } else {
            let context = try PCSCContext()
            let name = try await ReaderChoice.resolve(reader, context: context)
            guard let status = try await context.readerStatuses(of: [name]).first, status.isCardPresent else {
                throw CardToolError.noCard(name)
            }
            bytes = status.atr
        }
        print(try ATR(bytes: bytes).summary)
        for name in SmartcardList.names(for: bytes) {
            print("card: \(name)")
        }
    }
}

enum CardToolError: Error, CustomStringConvertible {
    case noCard(String)

    var description: String {
        switch self {
        case .noCard(let reader): "There is no card in \(reader); insert one and try again."
        }
    }
}

/// Looks ATRs up in pcsc-tools' list of known cards.
enum SmartcardList {
    static let path = "/usr/share/pcsc/smartcard_list.txt"

    /// The names the list gives for this ATR (its entries are regular expressions over the spaced hex ATR).
    static func names(for atr: [UInt8]) -> [String] {
        guard
            let text = (try? String(contentsOfFile: path, encoding: .utf8))
                ?? (try? String(contentsOfFile: path, encoding: .isoLatin1))
        else { return [] }
        let target = Hex.encode(atr)
        var names: [String] = []
        var matching = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("\t") {
                if matching { names.append(line.trimmingCharacters(in: .whitespaces)) }
            } else if line.hasPrefix("#") || line.isEmpty {
                matching = false
            } else {
                let pattern = "^" + line.trimmingCharacters(in: .whitespaces) + "$"
                matching = target.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil
            }
        }
        return names
    }
}
