public import ISO7816
import Synchronization

/// How FuzzCardChannel reads its input (and how MakeCorpus writes recorded exchanges):
///
/// ```
/// byte 0      setup: bits 0–1 the operation (0 transmit case 2, 1 transmit case 4, 2 read a whole file,
///             3 read a whole file of a known length); bit 2 T=0 (else T=1); bits 3–4 the channel's extended-length
///             setting (0 unknown, 1 supported, 2 unsupported, 3 unknown); bit 5 chaining not allowed; bit 6 a
///             command that needs extended length (300 data bytes, Ne 1000)
/// bytes 1–2   a big-endian parameter: Ne for a transmit, the expected length for operation 3
/// then        the card's answers, each a big-endian two-byte length and that many bytes (data, SW1 SW2); a
///             last answer shorter than its length takes what is left
/// ```
public struct ChannelScript: Sendable {
    /// What the channel is asked to do.
    public enum Operation: UInt8, Sendable {
        case transmitCase2 = 0
        case transmitCase4 = 1
        case readFile = 2
        case readFileOfKnownLength = 3
    }

    public var operation: Operation
    public var link: TransmissionProtocol
    public var extendedLength: CardChannel.ExtendedLengthSupport
    public var allowsChaining: Bool
    public var needsExtendedLength: Bool
    public var parameter: Int
    public var answers: [[UInt8]]

    public init(
        operation: Operation, link: TransmissionProtocol = .t1,
        extendedLength: CardChannel.ExtendedLengthSupport = .unknown, allowsChaining: Bool = true,
        needsExtendedLength: Bool = false, parameter: Int = 0, answers: [[UInt8]] = []
    ) {
        self.operation = operation
        self.link = link
        self.extendedLength = extendedLength
        self.allowsChaining = allowsChaining
        self.needsExtendedLength = needsExtendedLength
        self.parameter = parameter
        self.answers = answers
    }

    /// Reads a script from fuzz bytes; any bytes make a script.
    public init(_ bytes: [UInt8]) {
        let setup = bytes.first ?? 0
        operation = Operation(rawValue: setup & 0x03) ?? .transmitCase2
        link = setup & 0x04 != 0 ? .t0 : .t1
        switch (setup >> 3) & 0x03 {
        case 1: extendedLength = .supported
        case 2: extendedLength = .unsupported
        default: extendedLength = .unknown
        }
        allowsChaining = setup & 0x20 == 0
        needsExtendedLength = setup & 0x40 != 0
        parameter = bytes.count >= 3 ? Int(bytes[1]) << 8 | Int(bytes[2]) : 0
        answers = []
        var index = 3
        while index < bytes.count {
            let length = index + 1 < bytes.count ? Int(bytes[index]) << 8 | Int(bytes[index + 1]) : 0
            let start = min(index + 2, bytes.count)
            let end = min(start + length, bytes.count)
            answers.append(Array(bytes[start..<end]))
            index = end
            if length == 0 && start == bytes.count { break }
        }
    }

    /// The script as bytes (the inverse of ``init(_:)``).
    public var encoded: [UInt8] {
        var setup = operation.rawValue
        if link == .t0 { setup |= 0x04 }
        switch extendedLength {
        case .supported: setup |= 1 << 3
        case .unsupported: setup |= 2 << 3
        case .unknown: break
        }
        if !allowsChaining { setup |= 0x20 }
        if needsExtendedLength { setup |= 0x40 }
        var bytes = [setup, UInt8(truncatingIfNeeded: parameter >> 8), UInt8(truncatingIfNeeded: parameter)]
        for answer in answers {
            bytes += [UInt8(truncatingIfNeeded: answer.count >> 8), UInt8(truncatingIfNeeded: answer.count)]
            bytes += answer
        }
        return bytes
    }
}

/// A link failure: the script has no more answers (the card went silent).
public struct ScriptEnded: CardTransportError {
    public var failure: CardTransportFailure { .cardUnresponsive }
    public init() {}
}

/// A transport that gives the script's answers in order, whatever the command.
public final class ScriptedAnswers: CardTransport, Sendable {
    private let remaining: Mutex<ArraySlice<[UInt8]>>
    private let link: TransmissionProtocol

    public init(_ answers: [[UInt8]], link: TransmissionProtocol) {
        remaining = Mutex(answers[...])
        self.link = link
    }

    public func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        guard let answer = remaining.withLock({ $0.popFirst() }) else { throw ScriptEnded() }
        return answer
    }

    public var transmissionProtocol: TransmissionProtocol {
        get async { link }
    }
}

/// A transport that passes commands to another and records its answers (for seeds made from real exchanges).
public final class RecordingTransport: CardTransport, Sendable {
    private let inner: any CardTransport
    private let recorded = Mutex<[[UInt8]]>([])

    public init(_ inner: any CardTransport) { self.inner = inner }

    /// The answers so far.
    public var answers: [[UInt8]] { recorded.withLock { $0 } }

    /// Forgets the answers so far.
    public func reset() { recorded.withLock { $0 = [] } }

    public func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        let answer = try await inner.transmit(command)
        recorded.withLock { $0.append(answer) }
        return answer
    }

    public var transmissionProtocol: TransmissionProtocol {
        get async { await inner.transmissionProtocol }
    }
}
