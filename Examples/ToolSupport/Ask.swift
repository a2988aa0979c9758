// Questions on the terminal: y/n with the default the prompt shows, choices asked again until the answer is one,
// free text, and "press Enter" for the screens' OK buttons.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Questions asked of the person at the terminal.
public enum Ask {
    /// Asks `question` on the terminal (/dev/tty) until the answer is yes or no: `y`, `yes`, `はい` or `n`, `no`,
    /// `いいえ`; an empty answer takes `default`, which the prompt shows as `[Y/n]` or `[y/N]`. The end of input
    /// (Ctrl-D) is no.
    public static func yesNo(_ question: String, default defaultAnswer: Bool = false) throws -> Bool {
        guard let tty = fopen("/dev/tty", "r+") else { throw ToolSupportError.noTerminal }
        defer { fclose(tty) }
        let prompt = question + (defaultAnswer ? " [Y/n]: " : " [y/N]: ")
        while true {
            fputs(prompt, tty)
            fflush(tty)
            guard let line = readLine(from: tty) else {
                fputs("\n", tty)
                return false
            }
            if let answer = yesNo(answer: line, default: defaultAnswer) { return answer }
            fputs("y（はい）か n（いいえ）で答えてください。\n", tty)
        }
    }

    /// The meaning of one answer: yes, no, the default for an empty answer, or nil when it is neither.
    public static func yesNo(answer line: String, default defaultAnswer: Bool) -> Bool? {
        switch line.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
        case "": defaultAnswer
        case "y", "yes", "はい", "ｙ": true
        case "n", "no", "いいえ", "ｎ": false
        default: nil
        }
    }

    /// Asks for one line of text on standard error, read from standard input; `required` asks again after an empty
    /// answer. Nil at the end of input.
    public static func text(_ label: String, required: Bool) -> String? {
        while true {
            FileHandle.standardError.write(Data((label + (required ? ": " : "（任意）: ")).utf8))
            guard let line = Swift.readLine() else { return nil }
            let value = line.trimmingCharacters(in: .whitespaces)
            if !value.isEmpty || !required { return value }
            FileHandle.standardError.write(Data("\(label)を入力してください。\n".utf8))
        }
    }

    /// Asks until the answer is one of `choices` (by any of its names); nil at the end of input.
    public static func choice<Choice>(_ label: String, _ choices: [(names: [String], value: Choice)]) -> Choice? {
        while true {
            guard let answer = text(label, required: true) else { return nil }
            if let match = choices.first(where: { $0.names.contains(answer) }) { return match.value }
            let names = choices.map { $0.names.joined(separator: " / ") }.joined(separator: "、")
            FileHandle.standardError.write(Data("「\(answer)」は選べません。次のどれかを入力してください: \(names)\n".utf8))
        }
    }

    /// The screens' OK button: on a terminal, waits for Enter; elsewhere (a script) goes on.
    public static func pressEnter(_ label: String = "OK") {
        guard isatty(STDIN_FILENO) == 1 else { return }
        FileHandle.standardError.write(Data("［\(label)］ Enter で次へ進みます: ".utf8))
        _ = Swift.readLine()
    }

    private static func readLine(from file: UnsafeMutablePointer<FILE>) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
