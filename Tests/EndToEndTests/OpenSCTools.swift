import Foundation
import Testing

/// The independent command-line clients the simulator is checked against: OpenSC (`opensc-tool`, `pkcs15-tool`,
/// `pkcs11-tool`) and `openssl`, run as subprocesses with a timeout.
///
/// Where a tool is missing, the tests that need it are skipped on a developer machine but FAIL on CI (`CI=true`).
enum OpenSCTools {
    static let pkcs11Module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
    static let required = ["opensc-tool", "pkcs15-tool", "pkcs11-tool", "openssl"]

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether the tests run: the tools are installed, or this is CI (where their absence must fail).
    static var enabled: Bool {
        isCI || (required.allSatisfy { path(of: $0) != nil } && FileManager.default.fileExists(atPath: pkcs11Module))
    }

    static func path(of tool: String) -> String? {
        if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return (directories + ["/usr/bin", "/usr/local/bin"]).map { "\($0)/\(tool)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// What a finished tool left behind.
    struct Result {
        var status: Int32
        var output: String
        var errorOutput: String
    }

    /// Runs a tool and waits for it, killing it after `timeout`.
    ///
    /// Arguments may carry test PINs: they are never put into failure messages; only the tool's name and its
    /// outputs are.
    static func run(_ tool: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Result {
        let executable = try #require(path(of: tool), "\(tool) is not installed (apt-get install opensc openssl)")
        let directory = FileManager.default.temporaryDirectory.appending(path: "tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appending(path: "stdout")
        let errURL = directory.appending(path: "stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let status = await process.exitStatus(killingAfter: timeout)
        let output = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        let errorOutput = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return Result(status: status, output: output, errorOutput: errorOutput)
    }

    /// Runs a tool and requires exit status 0.
    @discardableResult
    static func succeed(_ tool: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws
        -> String
    {
        let result = try await run(tool, arguments, timeout: timeout)
        try #require(
            result.status == 0,
            "\(tool) failed with status \(result.status): \(result.errorOutput) \(result.output)")
        return result.output
    }
}
