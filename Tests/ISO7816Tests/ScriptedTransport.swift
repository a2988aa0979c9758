import ISO7816
import Testing

/// Parses hex for a test (throws, never traps).
func hex(_ text: String) throws -> [UInt8] {
    try Hex.decode(text)
}

/// A link failure a test transport can throw.
struct TestLinkError: CardTransportError, Equatable {
    let failure: CardTransportFailure
}

/// A transport that checks every command against a script and answers what the script says.
///
/// Each step names the exact bytes the channel must send and the answer (or error) to give back. A command that
/// differs from the script, or one sent after the script ended, is recorded as a test issue.
actor ScriptedTransport: CardTransport {
    enum Answer: Sendable {
        case bytes([UInt8])
        case error(TestLinkError)
    }

    struct Step: Sendable {
        let expected: [UInt8]
        let answer: Answer
    }

    private var steps: [Step]
    private(set) var sent: [[UInt8]] = []
    private let link: TransmissionProtocol

    /// Makes a transport from `(command hex, answer hex)` pairs.
    init(_ script: [(String, String)], link: TransmissionProtocol = .t1) throws {
        self.steps = try script.map { Step(expected: try hex($0.0), answer: .bytes(try hex($0.1))) }
        self.link = link
    }

    init(steps: [Step], link: TransmissionProtocol = .t1) {
        self.steps = steps
        self.link = link
    }

    var transmissionProtocol: TransmissionProtocol { link }

    /// Whether every scripted step was used.
    var isFinished: Bool { steps.isEmpty }

    func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        sent.append(command)
        guard !steps.isEmpty else {
            Issue.record("unexpected command after the script ended: \(Hex.encode(command))")
            throw TestLinkError(failure: .other)
        }
        let step = steps.removeFirst()
        #expect(
            Hex.encode(command) == Hex.encode(step.expected),
            "command \(sent.count) differs from the script")
        switch step.answer {
        case .bytes(let answer): return answer
        case .error(let error): throw error
        }
    }
}

/// `count` bytes counting up from `start` (wrapping), as test data.
func pattern(_ count: Int, start: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: Int(start) + $0) }
}
