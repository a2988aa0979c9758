import Foundation
import Testing

/// Runs the example tools as a person would, from the build folder the tests were built into.
enum Tools {
    /// The folder that holds the test bundle and, after `swift build --build-tests`, the example executables.
    static let binDirectory: URL = {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }()

    /// What a finished process left.
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs the tool `name` with `arguments`, feeding `input` on standard input; fails after `timeout`.
    static func run(
        _ name: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> Result {
        let url = binDirectory.appendingPathComponent(name)
        try #require(
            FileManager.default.isExecutableFile(atPath: url.path),
            "\(url.path) is missing: build the tools first (swift build --build-tests)")
        return try await run(executable: url, arguments, input: input, environment: environment, timeout: timeout)
    }

    /// Writing to a child that has exited must not end the test run. With SIGPIPE's default action such a write
    /// kills the whole test process without a word (the run stops mid-line); with SIGPIPE ignored the write fails
    /// with EPIPE, which the writers here take with `try?` (FileHandle's `write(_:)` would trap on it).
    static let brokenPipesIgnored: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Runs any executable.
    static func run(
        executable: URL, _ arguments: [String], input: String? = nil, environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        _ = Self.brokenPipesIgnored
        try process.run()
        // A tool that exits before reading all its input (a usage error) closes the pipe: the write fails, quietly.
        if let input { try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        async let out = readToEnd(stdout.fileHandleForReading)
        async let err = readToEnd(stderr.fileHandleForReading)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                Issue.record("\(executable.lastPathComponent) \(arguments) did not finish in \(timeout)")
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let status = process.waitForExit()
        return Result(
            status: status, output: String(decoding: await out, as: UTF8.self),
            error: String(decoding: await err, as: UTF8.self))
    }

    /// Reads `handle` to its end on a Dispatch thread: a blocking read on the cooperative pool (two threads on a
    /// two-core machine) would starve the test's own tasks — such as the one that swaps cards — while the tool runs.
    private static func readToEnd(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: handle.readDataToEndOfFile()) }
        }
    }
}
