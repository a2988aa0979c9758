import CardSimulator
import Foundation
import ISO7816
import PCSC
import Testing

extension EndToEnd {
    /// The `card-simulator` example as a person runs it: it serves a card until SIGTERM, removes it cleanly,
    /// writes the certificates as PEM and keeps the PIN counter across restarts.
    @Suite("The card-simulator executable", .enabled(if: SimulatorExecutable.enabled))
    struct SimulatorExecutableTests {
        @Test("ic-card: served until SIGTERM, PEM files written, the PIN counter kept across a restart")
        func icCardAcrossRestarts() async throws {
            let executable = try #require(SimulatorExecutable.path, "build the card-simulator product first")
            let state = FileManager.default.temporaryDirectory.appending(path: "e2e-state-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: state) }
            let reader = try await TestBench.readerName(slot: 1)
            let context = try PCSCContext()

            let first = try SimulatorExecutable.start(
                executable, ["ic-card", "--slot", "1", "--state", state.path, "--pin", "AOSIGN-1", "--max-tries", "5"])
            try await TestBench.waitUntil(context: context, reader: reader, present: true)
            let card = try await context.connect(to: reader)
            let channel = CardChannel(transport: card)
            #expect(
                try await channel.transmit(CommandAPDU(ins: 0xA4, p1: 4, p2: 0x0C, data: PrivateCAICCard.aid)).isSuccess
            )
            let wrong = try await channel.transmit(
                CommandAPDU(ins: 0x20, p1: 0, p2: 0x81, data: Array("WRONG".utf8), sensitive: true))
            #expect(wrong.statusWord == StatusWord(0x63C4))
            await card.disconnect()
            #expect(try await SimulatorExecutable.stop(first) == 0)
            try await TestBench.waitUntil(context: context, reader: reader, present: false)

            for name in ["ic-card-holder.pem", "ic-card-ca.pem", "root-eBidding.pem", "ic-card.json"] {
                #expect(FileManager.default.fileExists(atPath: state.appending(path: name).path), "\(name)")
            }
            let snapshotFile = state.appending(path: "ic-card.json")
            let permissions = try FileManager.default.attributesOfItem(atPath: snapshotFile.path)[.posixPermissions]
            #expect(permissions as? Int == 0o600)

            // A restart without --pin serves the same card, its counter as it was.
            let second = try SimulatorExecutable.start(executable, ["ic-card", "--slot", "1", "--state", state.path])
            try await TestBench.waitUntil(context: context, reader: reader, present: true)
            let again = try await context.connect(to: reader)
            let channel2 = CardChannel(transport: again)
            #expect(
                try await channel2.transmit(CommandAPDU(ins: 0xA4, p1: 4, p2: 0x0C, data: PrivateCAICCard.aid))
                    .isSuccess)
            let query = try await channel2.transmit(CommandAPDU(ins: 0x20, p1: 0, p2: 0x81))
            #expect(query.statusWord == StatusWord(0x63C4))
            await again.disconnect()
            #expect(try await SimulatorExecutable.stop(second) == 0)
            try await TestBench.waitUntil(context: context, reader: reader, present: false)
        }

        @Test("a new card without PINs is refused, and no PIN is ever printed")
        func refusesNewCardWithoutPINs() async throws {
            let executable = try #require(SimulatorExecutable.path)
            let state = FileManager.default.temporaryDirectory.appending(path: "e2e-state-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: state) }
            let missing = try SimulatorExecutable.start(executable, ["jpki", "--slot", "1", "--state", state.path])
            let (status, output) = try await SimulatorExecutable.finish(missing)
            #expect(status != 0)
            #expect(output.contains("--sign-pin"))
            let bad = try SimulatorExecutable.start(
                executable,
                ["jpki", "--slot", "1", "--state", state.path, "--sign-pin", "lower5", "--auth-pin", "98765"])
            let (badStatus, badOutput) = try await SimulatorExecutable.finish(bad)
            #expect(badStatus != 0)
            #expect(!badOutput.contains("lower5") && !badOutput.contains("98765"))
        }
    }
}

/// Runs the `card-simulator` product built beside the tests.
enum SimulatorExecutable {
    static var path: String? {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(), Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        return candidates.compactMap { $0?.appending(path: "card-simulator").path }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static var enabled: Bool { OpenSCTools.isCI || path != nil }

    struct Running {
        let process: Process
        let output: URL
    }

    static func start(_ executable: String, _ arguments: [String]) throws -> Running {
        let output = FileManager.default.temporaryDirectory.appending(path: "card-simulator-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, output: output)
    }

    /// Sends SIGTERM and waits (at most 20 s) for the exit status.
    static func stop(_ running: Running) async throws -> Int32 {
        running.process.terminate()
        return try await finish(running).status
    }

    /// Waits (at most 20 s) for the process to end; returns its status and everything it printed.
    static func finish(_ running: Running) async throws -> (status: Int32, output: String) {
        let deadline = ContinuousClock.now + .seconds(20)
        while running.process.isRunning {
            if ContinuousClock.now > deadline {
                running.process.interrupt()
                Issue.record("card-simulator did not end in 20 s")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let output = String(decoding: (try? Data(contentsOf: running.output)) ?? Data(), as: UTF8.self)
        try? FileManager.default.removeItem(at: running.output)
        return (running.process.terminationStatus, output)
    }
}
