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
        discussion: "Exit status: 0 on success, 1 when the card's last status word is not 90 00, 2 on any other error.",
        subcommands: [Readers.self, Watch.self, Send.self, ATRCommand.self]
    )
}

/// Prints an error as one sentence on standard error and exits with status 2.
func fail(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("cardtool: \(messageWithAdvice(error))\n".utf8))
    exit(2)
}

struct Readers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the readers, whether a card is in each, and its ATR.")

    func run() async throws {
        do {
            let context = try PCSCContext()
            let readers = try await context.readerStatuses()
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
        } catch {
            fail(error)
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
        } catch {
            fail(error)
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
            """)

    @Option(name: .long, help: "The reader to use (default: the only reader holding a card).")
    var reader: String?

    @Argument(help: "Command APDUs in hex (spaces and colons allowed inside one quoted argument).")
    var apdus: [String]

    func run() async throws {
        let last: StatusWord
        do {
            let commands = try apdus.map { try CommandAPDU(bytes: Hex.decode($0)) }
            let context = try PCSCContext()
            let name = try await chooseReader(context: context, requested: reader)
            let card = try await context.connect(to: name)
            let channel = CardChannel(transport: card)
            last = try await card.withTransaction { _ in
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
        } catch {
            fail(error)
        }
        if !last.isSuccess { throw ExitCode(1) }
    }
}

struct ATRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atr",
        abstract: "Explain an ATR: given in hex, or read from the card in a reader.",
        discussion: "The card's name comes from pcsc-tools' list (/usr/share/pcsc/smartcard_list.txt) when installed.")

    @Option(name: .long, help: "The reader whose card to read (when no ATR is given).")
    var reader: String?

    @Argument(help: "The ATR in hex; read from a card when omitted.")
    var atr: String?

    func run() async throws {
        do {
            let bytes: [UInt8]
            if let atr {
                bytes = try Hex.decode(atr)
            } else {
                let context = try PCSCContext()
                let name = try await chooseReader(context: context, requested: reader)
                guard let status = try await context.readerStatuses(of: [name]).first, status.isCardPresent else {
                    throw CardToolError.noCard(name)
                }
                bytes = status.atr
            }
            print(try ATR(bytes: bytes).summary)
            for name in SmartcardList.names(for: bytes) {
                print("card: \(name)")
            }
        } catch {
            fail(error)
        }
    }
}

enum CardToolError: Error, CustomStringConvertible {
    case noCard(String)
    case noReaderWithCard
    case severalReadersWithCards([String])

    var description: String {
        switch self {
        case .noCard(let reader): "There is no card in \(reader); insert one and try again."
        case .noReaderWithCard: "No reader holds a card; insert one, or name the reader with --reader."
        case .severalReadersWithCards(let names):
            "Several readers hold a card (\(names.joined(separator: ", "))); choose one with --reader."
        }
    }
}

/// The reader asked for, or the only one holding a card.
func chooseReader(context: PCSCContext, requested: String?) async throws -> String {
    if let requested { return requested }
    let withCards = try await context.readerStatuses().filter(\.isCardPresent).map(\.name)
    guard let first = withCards.first else { throw CardToolError.noReaderWithCard }
    guard withCards.count == 1 else { throw CardToolError.severalReadersWithCards(withCards) }
    return first
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
