import CardAgent
import Foundation

/// The scripted pinentry of Fixtures/scripted-pinentry, with a directory of its own for its answers and its log.
struct ScriptedPinentry {
    static let program = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/scripted-pinentry").path

    let directory: URL
    var answersFile: URL { directory.appendingPathComponent("answers") }
    var logFile: URL { directory.appendingPathComponent("log") }

    /// A pinentry that gives `answers` (one line per dialog: see the script's header) in order.
    init(_ answers: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pinentry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (answers.joined(separator: "\n") + "\n").write(to: answersFile, atomically: true, encoding: .utf8)
    }

    /// The client of the script.
    func pinentry(timeout: Duration = .seconds(30)) -> Pinentry {
        Pinentry(
            program: Self.program,
            environment: ["SCRIPTED_PINENTRY_ANSWERS": answersFile.path, "SCRIPTED_PINENTRY_LOG": logFile.path],
            timeout: timeout)
    }

    /// The lines the script received, in order.
    var log: [String] {
        ((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// How many answers were used.
    var answersUsed: Int {
        Int(
            ((try? String(contentsOf: directory.appendingPathComponent("answers.pos"), encoding: .utf8)) ?? "0")
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
