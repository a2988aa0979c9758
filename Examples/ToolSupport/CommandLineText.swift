import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The command line as the process received it, before Swift turns it into `String`s.
///
/// `CommandLine.arguments` repairs bytes that are not UTF-8 into U+FFFD, so a name typed in a Shift_JIS terminal
/// would be stored as `�` characters without a word. The tools look at the raw bytes first and refuse such an
/// argument, naming the option it belongs to.
public enum CommandLineText {
    /// The first argument that is not valid UTF-8, as a sentence naming its option (or position), or nil.
    public static func invalidUTF8Argument(in arguments: [[UInt8]]) -> String? {
        for (index, bytes) in arguments.enumerated().dropFirst() where String(validating: bytes, as: UTF8.self) == nil {
            // `--name=value` names itself; a value after `--name` belongs to it.
            if bytes.starts(with: Array("-".utf8)), let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                return "the value of \(String(decoding: bytes[..<equals], as: UTF8.self)) is not valid UTF-8"
            }
            let previous = String(decoding: arguments[index - 1], as: UTF8.self)
            if index > 1, previous.hasPrefix("-"), !previous.contains("=") {
                return "the value of \(previous) is not valid UTF-8"
            }
            return "argument \(index) is not valid UTF-8"
        }
        return nil
    }

    /// Exits with status 64 (a command line that cannot be used) when an argument is not valid UTF-8, saying which
    /// and what to do.
    public static func requireValidUTF8(tool: String) {
        let count = Int(CommandLine.argc)
        let arguments = (0..<count).map { index -> [UInt8] in
            guard let pointer = CommandLine.unsafeArgv[index] else { return [] }
            return Array(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                    count: strlen(pointer)))
        }
        if let problem = invalidUTF8Argument(in: arguments) {
            FileHandle.standardError.write(
                Data(
                    ("\(tool): \(problem) (was it typed in another encoding, such as Shift_JIS?); set the terminal to "
                        + "UTF-8 and type it again.\n").utf8))
            exit(64)
        }
    }
}
