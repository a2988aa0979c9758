import Foundation
import Testing

@testable import Registration

/// A test server from Fixtures (a Python script) that prints its port, runs until its stdin closes, and is stopped
/// by ``stop()``.
final class DeliveryFixtureServer: @unchecked Sendable {
    let port: UInt16
    private let process: Process
    private let input: Pipe

    private init(port: UInt16, process: Process, input: Pipe) {
        self.port = port
        self.process = process
        self.input = input
    }

    /// The Fixtures folder, found through the test bundle's resources.
    static func fixture(_ name: String) throws -> URL {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let url = folder.appendingPathComponent(name)
        #expect(FileManager.default.fileExists(atPath: url.path), "missing fixture \(name)")
        return url
    }

    /// Starts `/usr/bin/python3 Fixtures/<script> <arguments>` and waits for the port it prints.
    static func start(_ script: String, _ arguments: [String] = []) async throws -> DeliveryFixtureServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [try fixture(script).path] + arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        // The read blocks: do it on a thread of its own, never on the cooperative pool.
        let line: String = await withCheckedContinuation { continuation in
            Thread {
                var bytes: [UInt8] = []
                while true {
                    let data = reader.readData(ofLength: 1)
                    guard let byte = data.first, byte != 0x0A else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }.start()
        }
        guard let port = UInt16(line.trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            throw DeliveryTestFailure("\(script) did not print its port (printed \(line.debugDescription))")
        }
        return DeliveryFixtureServer(port: port, process: process, input: input)
    }

    /// Stops the server and waits for it to exit.
    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

struct DeliveryTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh temporary folder.
func deliveryTemporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("delivery-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The `RegistrationError` a throwing async call ended with, or nil.
func deliveryError(_ body: () async throws(RegistrationError) -> Void) async -> RegistrationError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
