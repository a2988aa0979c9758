// How every example tool starts, reports errors and ends: one exit-status table, one catch, --version, --log-level
// and --trace, and a Ctrl-C that leaves the terminal as it was.

public import ArgumentParser
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The version every tool prints with `--version`.
public enum ToolVersion {
    public static let current = "0.2.0-dev"
}

/// The exit statuses of every tool, the same in each.
public enum ExitStatus: Int32, CaseIterable, Sendable {
    /// The command did what it was asked.
    case success = 0
    /// The operation was refused or failed: a wrong or blocked PIN, a card's status word other than 90 00, the
    /// rights, a signature or certificate that does not verify, a message that failed for good.
    case refused = 1
    /// Any other error: no reader or card, a file that cannot be read, the database, the network.
    case failed = 2
    /// The person declined at a confirmation (n, 戻る): nothing was changed or sent.
    case declined = 3
    /// The command line cannot be used: an unknown option, a missing or malformed value (bad hex, an unknown
    /// reader index), an argument that is not UTF-8.
    case usage = 64
    /// Interrupted with Ctrl-C (SIGINT).
    case interrupted = 130

    /// The table as a `--help` section.
    public static let helpText = """
        Exit status (the same in every tool):
          0    success
          1    refused or failed: a wrong or blocked PIN, a status word other than 90 00, the rights, a signature \
        that does not verify
          2    any other error: no reader or card, a file that cannot be read, the database, the network
          3    declined at a confirmation (n, 戻る): nothing was changed
          64   usage error: an unknown option, a malformed value (bad hex, an unknown reader), non-UTF-8 text
          130  interrupted (Ctrl-C)
        """

    /// The options every command takes besides its own, as a `--help` section.
    public static let commonOptionsText = """
        Options of every command (anywhere on the line): --log-level LEVEL (trace, debug, info, notice, warning, \
        error, critical; default warning; logs go to standard error), --trace (the APDUs exchanged with the card, \
        on standard error, PINs masked), --version, --help.
        """
}

/// The person answered n (戻る) at a confirmation: the tool has said so; it ends with ``ExitStatus/declined``.
public struct Declined: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String = "戻る: 何も変更していません。") { self.message = message }
    public var description: String { message }
}

/// An error that names its own exit status.
public protocol ToolError: Error {
    var exitStatus: ExitStatus { get }
}

/// The start and end of every tool.
public enum ToolMain {
    /// Checks the command line, sets up logging and Ctrl-C, parses, runs, and reports any error as one sentence on
    /// standard error with the status of ``ExitStatus``. `classify` decides which of the tool's errors are refusals.
    public static func run<Command: AsyncParsableCommand>(
        _ command: Command.Type, tool: String, environmentLogLevel: String? = nil,
        classify: @escaping @Sendable (any Error) -> ExitStatus
    ) async -> Never {
        CommandLineText.requireValidUTF8(tool: tool)
        Interrupts.install()
        let arguments: [String]
        do {
            arguments = try LogOptions.bootstrap(
                Array(CommandLine.arguments.dropFirst()),
                environmentLevel: environmentLogLevel.flatMap { ProcessInfo.processInfo.environment[$0] })
        } catch {
            FileHandle.standardError.write(Data("\(tool): \(error)\n".utf8))
            exit(ExitStatus.usage.rawValue)
        }
        var parsed: any ParsableCommand
        do {
            parsed = try Command.parseAsRoot(arguments)
        } catch {
            Command.exit(withError: error)
        }
        do {
            if var asyncCommand = parsed as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try parsed.run()
            }
        } catch {
            report(error, tool: tool, command: Command.self, classify: classify)
        }
        exit(ExitStatus.success.rawValue)
    }

    /// The start and end of a server (portal-server, card-agent): logging at `defaultLevel` unless told otherwise
    /// (`--log-level`, or the environment variable `environmentLogLevel`), and no Ctrl-C handler of the tools' own:
    /// the server's service group handles SIGTERM and SIGINT gracefully. Parses, runs, and reports any error as one
    /// sentence on standard error, as ``run(_:tool:environmentLogLevel:classify:)`` does.
    public static func runServer<Command: AsyncParsableCommand>(
        _ command: Command.Type, tool: String, environmentLogLevel: String, defaultLevel: String = "info"
    ) async -> Never {
        let arguments: [String]
        do {
            arguments = try LogOptions.bootstrap(
                Array(CommandLine.arguments.dropFirst()),
                environmentLevel: ProcessInfo.processInfo.environment[environmentLogLevel] ?? defaultLevel)
        } catch {
            FileHandle.standardError.write(Data("\(tool): \(error)\n".utf8))
            exit(ExitStatus.usage.rawValue)
        }
        let parsed: any ParsableCommand
        do {
            parsed = try Command.parseAsRoot(arguments)
        } catch {
            Command.exit(withError: error)
        }
        do {
            // --help and --version parse as commands of their own, which print and return.
            if var server = parsed as? Command {
                try await server.run()
            } else if var other = parsed as? any AsyncParsableCommand {
                try await other.run()
            } else {
                var other = parsed
                try other.run()
            }
        } catch {
            report(error, tool: tool, command: Command.self) { _ in .failed }
        }
        exit(ExitStatus.success.rawValue)
    }

    /// Prints `error` as one sentence (or nothing for a declined confirmation, which the tool has shown) and exits
    /// with its status.
    public static func report<Command: ParsableCommand>(
        _ error: any Error, tool: String, command: Command.Type, classify: (any Error) -> ExitStatus
    ) -> Never {
        switch error {
        case is Declined:
            exit(ExitStatus.declined.rawValue)
        case let code as ExitCode:
            exit(code.rawValue)
        case is CleanExit:
            Command.exit(withError: error)
        case let usage as ValidationError:
            FileHandle.standardError.write(Data("\(tool): \(usage.message)\n".utf8))
            exit(ExitStatus.usage.rawValue)
        case let usage as UsageError:
            FileHandle.standardError.write(Data("\(tool): \(usage)\n".utf8))
            exit(ExitStatus.usage.rawValue)
        case _ where String(reflecting: type(of: error)).hasPrefix("ArgumentParser."):
            // --help and --version after a subcommand's name, and the parser's own errors: ArgumentParser prints
            // them and knows their status (0, or 64 for a usage error).
            Command.exit(withError: error)
        default:
            let status = (error as? any ToolError)?.exitStatus ?? classify(error)
            var text = PersonMessage.describe(error)
            // The libraries say what happened; what to do about it on this system (start pcscd, plug in a reader)
            // is the tools' to say.
            if let advice = operatingAdvice(for: error) { text += " " + advice }
            // The libraries say "allowing the last try"; the tools name the option that does it.
            if text.contains("allowing the last try"), !text.contains("--allow-last-try") {
                text = text.replacingOccurrences(of: "allowing the last try", with: "with --allow-last-try")
            }
            FileHandle.standardError.write(Data("\(tool): \(text)\n".utf8))
            exit(status.rawValue)
        }
    }
}

/// A failure the tool words itself, with its exit status.
public struct ToolFailure: ToolError, CustomStringConvertible {
    public var description: String
    public var exitStatus: ExitStatus
    public init(_ description: String, status: ExitStatus = .failed) {
        self.description = description
        self.exitStatus = status
    }
}

/// A command line that cannot be used, found after parsing (bad hex, an unknown reader): exit 64 with the sentence.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Error text for people: a file that cannot be read is said as such, not as an `NSCocoaErrorDomain` dump.
public enum PersonMessage {
    public static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain {
            let path =
                (nsError.userInfo[NSFilePathErrorKey] as? String)
                ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path ?? "the file"
            switch nsError.code {
            case NSFileReadNoSuchFileError, NSFileNoSuchFileError:
                return "cannot read \(path): no such file."
            case NSFileReadNoPermissionError:
                return "cannot read \(path): permission denied."
            case NSFileWriteNoPermissionError:
                return "cannot write \(path): permission denied."
            case NSFileWriteOutOfSpaceError:
                return "cannot write \(path): the disk is full."
            case NSFileReadCorruptFileError, NSFileReadInapplicableStringEncodingError:
                return "cannot read \(path): it is not text in the expected encoding."
            case NSFileWriteFileExistsError:
                return "cannot write \(path): it exists already."
            case NSFileReadUnknownError, NSFileWriteUnknownError:
                if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
                    underlying.domain == NSPOSIXErrorDomain
                {
                    let reason = String(cString: strerror(Int32(underlying.code)))
                    return "cannot \(nsError.code == NSFileReadUnknownError ? "read" : "write") \(path): \(reason)."
                }
            default:
                break
            }
        }
        if let decoding = error as? DecodingError {
            return "the JSON document does not have the expected form: \(decodingText(decoding))"
        }
        return "\(error)"
    }

    private static func decodingText(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the document" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)) lacks \"\(key.stringValue)\"."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "it cannot be read."
        }
    }
}

/// `--log-level` and `--trace`, taken off the command line before the command's own options are parsed, so that
/// every command of every tool accepts them, anywhere on the line.
public enum LogOptions {
    /// The labels of the loggers that trace APDUs: the PC/SC layer and the simulated cards.
    static let apduLabels = ["procurement-identity.pcsc", "CardSimulator"]

    struct BadLevel: Error, CustomStringConvertible {
        var value: String
        var description: String {
            "--log-level \(value) is not a level; use trace, debug, info, notice, warning, error or critical."
        }
    }

    /// Returns the arguments without `--log-level LEVEL`, `--log-level=LEVEL` and `--trace`, and bootstraps
    /// swift-log: standard error, at LEVEL (else `environmentLevel`, else warning); with `--trace` the APDU loggers
    /// at trace level.
    public static func bootstrap(_ arguments: [String], environmentLevel: String?) throws -> [String] {
        var rest: [String] = []
        var level: Logger.Level?
        var trace = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            if argument == "--trace" {
                trace = true
            } else if argument == "--log-level" || argument.hasPrefix("--log-level=") {
                let value: String
                if argument == "--log-level" {
                    guard index + 1 < arguments.count else { throw BadLevel(value: "(nothing)") }
                    index += 1
                    value = arguments[index]
                } else {
                    value = String(argument.dropFirst("--log-level=".count))
                }
                guard let parsed = Logger.Level(rawValue: value.lowercased()) else { throw BadLevel(value: value) }
                level = parsed
            } else {
                rest.append(argument)
            }
            index += 1
        }
        let chosen = level ?? environmentLevel.flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .warning
        let tracing = trace
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel =
                tracing && apduLabels.contains(where: { label.hasPrefix($0) }) ? .trace : chosen
            return handler
        }
        return rest
    }
}

/// Ctrl-C, SIGTERM, SIGHUP and SIGQUIT: the terminal's echo comes back if a PIN prompt had turned it off, Ctrl-C
/// leaves the cursor on a fresh line, and the tool exits with 128 + the signal (130 for Ctrl-C).
public enum Interrupts {
    nonisolated(unsafe) private static var installed = false

    public static func install() {
        guard !installed else { return }
        installed = true
        for signalNumber in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(signalNumber) { signalNumber in
                if var attributes = PINInput.saved?.attributes, let fd = PINInput.saved?.fd {
                    tcsetattr(fd, TCSANOW, &attributes)
                }
                if signalNumber == SIGINT { _ = write(STDERR_FILENO, "\n", 1) }
                _exit(128 + signalNumber)
            }
        }
    }
}

/// JSON for scripts: sorted keys, ISO 8601 dates, slashes unescaped, one document and a newline.
public enum JSONOutput {
    public static func print<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
