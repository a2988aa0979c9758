import Synchronization

/// A logical channel to a card over any ``CardTransport``, applying the ISO 7816-4 exchange rules so callers
/// send whole commands and get whole answers:
///
/// - `61xx`: fetches the rest with GET RESPONSE (same class byte), up to a limit of iterations;
/// - `6Cxx`: resends the command once with the Le the card asked for;
/// - T=0: sends a case-4 command without Le and collects its data through `61xx`;
/// - data longer than a short APDU on a card without extended length: command chaining (CLA bit `10`);
/// - whole transparent files in the fewest APDUs the card allows (``readTransparentFile(expectedLength:)``).
///
/// One logical exchange (a command with its GET RESPONSE chain) is never interleaved with another sent through
/// the same channel, even from concurrent tasks.
///
/// ```swift
/// let channel = CardChannel(transport: connection)
/// _ = try await channel.transmit(.select(aid: jpkiAID)).successData(for: "SELECT")
/// let certificate = try await channel.readTransparentFile()
/// ```
public final class CardChannel: Sendable {
    /// Whether the card takes extended-length APDUs.
    public enum ExtendedLengthSupport: Sendable, Hashable {
        /// Not known yet: the channel tries extended length once where it helps, and remembers the answer.
        case unknown
        /// The card takes extended length.
        case supported
        /// The card answered `67 00` to extended length (or a profile says it has none).
        case unsupported
    }

    /// How the channel talks to one kind of card.
    public struct Configuration: Sendable {
        /// The GET RESPONSE instruction; some card profiles use another than `C0`.
        public var getResponseInstruction: UInt8 = 0xC0
        /// The most GET RESPONSE commands for one command before the card is judged faulty.
        public var maximumGetResponses: Int = 300
        /// What is known about extended length.
        public var extendedLength: ExtendedLengthSupport = .unknown
        /// Whether commands whose data exceed 255 bytes may be chained when extended length is unavailable.
        public var allowsChaining: Bool = true
        /// Called after each APDU that went to the card, with the command as sent and the raw answer. A sensitive
        /// command (PIN verification) reaches the tracer with its data overwritten by zeros, and its
        /// `description` prints `<redacted>`: the PIN never reaches a tracer.
        public var tracer: (@Sendable (CommandAPDU, ResponseAPDU) -> Void)?

        /// The defaults: GET RESPONSE `C0`, extended length probed, chaining allowed, no tracing.
        public init() {}
    }

    /// Counts of what went through the channel.
    public struct Statistics: Sendable, Hashable {
        /// APDUs sent to the card (GET RESPONSE and resends included).
        public var apdusSent = 0
        /// Response bytes received, status words included.
        public var bytesReceived = 0
        /// Command bytes sent, headers and length fields included.
        public var bytesSent = 0
        /// GET RESPONSE commands sent to collect `61xx` answers (included in ``apdusSent``).
        public var getResponses = 0
        /// Commands resent with the Le a `6Cxx` asked for (included in ``apdusSent``).
        public var wrongLengthResends = 0

        /// All counts zero.
        public init() {}
    }

    private struct State {
        var extendedLength: ExtendedLengthSupport
        var statistics = Statistics()
    }

    /// The link underneath.
    public let transport: any CardTransport
    /// The configuration given at creation.
    public let configuration: Configuration
    private let state: Mutex<State>
    private let exchangeLock = AsyncLock()

    /// Opens a channel over a transport.
    public init(transport: any CardTransport, configuration: Configuration = Configuration()) {
        self.transport = transport
        self.configuration = configuration
        self.state = Mutex(State(extendedLength: configuration.extendedLength))
    }

    /// What the channel has learned about extended length.
    public var extendedLengthSupport: ExtendedLengthSupport {
        state.withLock { $0.extendedLength }
    }

    /// APDU and byte counts since the channel opened (or since ``resetStatistics()``).
    public var statistics: Statistics {
        state.withLock { $0.statistics }
    }

    /// Sets the counts back to zero.
    public func resetStatistics() {
        state.withLock { $0.statistics = Statistics() }
    }

    /// Sends a command and returns its whole answer, applying the exchange rules (GET RESPONSE, `6Cxx`, chaining,
    /// T=0 case 4).
    ///
    /// The status word of the answer is the card's last; the caller decides what it means. Commands of concurrent
    /// tasks go to the card one whole exchange at a time, in the order they were sent.
    /// - Throws: the transport's error (conforming to ``CardTransportError``) when the link fails, an
    ///   ``ISO7816Error`` when the card breaks the exchange rules, or `CancellationError` when the task is cancelled
    ///   while it waits for another task's exchange (nothing is sent then).
    public func transmit(_ command: CommandAPDU) async throws -> ResponseAPDU {
        try await exchangeLock.withLock {
            try await self.exchange(command)
        }
    }

    /// Reads the whole current transparent EF (after a SELECT) in the fewest APDUs the card allows.
    ///
    /// Where the card takes extended length, one READ BINARY with Le = `00 00` reads up to 65536 bytes. Otherwise
    /// the first short READ BINARY (Le = `00`) tells the length — from `expectedLength`, or from the BER-TLV
    /// header the file begins with (a DER certificate's `30 82 LL LL`) — and the rest comes in 256-byte reads.
    /// Without a known length the channel reads until a short answer, `62 82` or `6B 00`.
    ///
    /// - Parameter expectedLength: The file's length when the caller knows it.
    /// - Returns: The file's bytes (at most `expectedLength` of them when given).
    public func readTransparentFile(expectedLength: Int? = nil) async throws -> [UInt8] {
        let file = try await exchangeLock.withLock {
            try await self.readWholeFile(expectedLength: expectedLength)
        }
        // A card may send more than was asked for (a last READ BINARY that ends with 62 82, an extended read).
        guard let expectedLength, file.count > expectedLength else { return file }
        return Array(file.prefix(max(0, expectedLength)))
    }

    // MARK: - Exchange rules

    private func exchange(_ command: CommandAPDU) async throws -> ResponseAPDU {
        let link = await transport.transmissionProtocol
        if command.needsExtendedLength, link == .t0 {
            // A T=0 TPDU has a one-byte P3: no extended length on this link, whatever the card supports.
            return try await exchangeShort(command, link: link)
        }
        if command.needsExtendedLength {
            switch extendedLengthSupport {
            case .supported:
                return try await exchangeOnce(command, extended: true, link: link)
            case .unknown:
                let response = try await exchangeOnce(command, extended: true, link: link)
                if response.statusWord == .wrongLength {
                    state.withLock { $0.extendedLength = .unsupported }
                    return try await exchangeShort(command, link: link)
                }
                // Any answer other than a length error means the encoding was understood.
                state.withLock { $0.extendedLength = .supported }
                return response
            case .unsupported:
                return try await exchangeShort(command, link: link)
            }
        }
        return try await exchangeOnce(command, extended: false, link: link)
    }

    /// A command that needs extended length, on a card without it: chain the data, cap Ne at 256.
    private func exchangeShort(_ command: CommandAPDU, link: TransmissionProtocol) async throws
        -> ResponseAPDU
    {
        let ne = command.expectedLength.map { min($0, CommandAPDU.maxShortExpectedLength) }
        guard command.data.count > CommandAPDU.maxShortData else {
            return try await exchangeOnce(
                try command.with(expectedLength: ne), extended: false, link: link)
        }
        guard configuration.allowsChaining else { throw ISO7816Error.extendedLengthUnavailable }
        var offset = 0
        let data = command.data
        while true {
            let end = min(offset + CommandAPDU.maxShortData, data.count)
            let isLast = end == data.count
            let part = try CommandAPDU(
                cla: isLast ? command.cla : command.cla | 0x10, ins: command.ins, p1: command.p1,
                p2: command.p2,
                data: Array(data[offset..<end]), expectedLength: isLast ? ne : nil,
                sensitive: command.isSensitive)
            let response = try await exchangeOnce(part, extended: false, link: link)
            if isLast || !response.isSuccess { return response }
            offset = end
        }
    }

    /// One command with its `6Cxx` resend and `61xx` chain.
    private func exchangeOnce(_ command: CommandAPDU, extended: Bool, link: TransmissionProtocol)
        async throws
        -> ResponseAPDU
    {
        // On T=0, case 4 goes out as case 3; the data come back through 61xx.
        var sent = command
        if link == .t0, command.apduCase == .case4 {
            sent = try command.with(expectedLength: nil)
        }
        var response = try await send(sent, extended: extended)
        if let le = response.statusWord.correctExpectedLength {
            response = try await send(try sent.with(expectedLength: le), extended: false)
            state.withLock { $0.statistics.wrongLengthResends += 1 }
            if response.statusWord.correctExpectedLength != nil {
                throw ISO7816Error.repeatedWrongLength(response.statusWord)
            }
        }
        guard response.statusWord.bytesRemaining != nil else { return response }
        var data = response.data
        var iterations = 0
        let cla = command.cla & ~0x10
        while let remaining = response.statusWord.bytesRemaining {
            iterations += 1
            if iterations > configuration.maximumGetResponses {
                throw ISO7816Error.tooManyGetResponses(limit: configuration.maximumGetResponses)
            }
            let getResponse = try CommandAPDU(
                cla: cla, ins: configuration.getResponseInstruction, p1: 0, p2: 0, expectedLength: remaining
            )
            response = try await send(getResponse, extended: false)
            state.withLock { $0.statistics.getResponses += 1 }
            if let le = response.statusWord.correctExpectedLength {
                response = try await send(try getResponse.with(expectedLength: le), extended: false)
                state.withLock { $0.statistics.wrongLengthResends += 1 }
                if response.statusWord.correctExpectedLength != nil {
                    throw ISO7816Error.repeatedWrongLength(response.statusWord)
                }
            }
            data.append(contentsOf: response.data)
        }
        response.data = data
        return response
    }

    /// One APDU on the wire.
    private func send(_ command: CommandAPDU, extended: Bool) async throws -> ResponseAPDU {
        var bytes = try command.encoded(extended: extended ? true : nil)
        defer {
            if command.isSensitive {
                bytes.withUnsafeMutableBufferPointer { buffer in
                    for i in buffer.indices { buffer[i] = 0 }
                }
            }
        }
        let answer = try await transport.transmit(bytes)
        state.withLock {
            $0.statistics.apdusSent += 1
            $0.statistics.bytesSent += bytes.count
            $0.statistics.bytesReceived += answer.count
        }
        let response = try ResponseAPDU(bytes: answer)
        configuration.tracer?(command.masked, response)
        return response
    }

    // MARK: - Whole files

    private func readWholeFile(expectedLength: Int?) async throws -> [UInt8] {
        let link = await transport.transmissionProtocol
        if extendedLengthSupport != .unsupported, link != .t0, (expectedLength ?? Int.max) > 256 {
            let wanted = min(expectedLength ?? CommandAPDU.maxExtendedExpectedLength, 65536)
            let read = try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: wanted)
            let response = try await exchangeOnce(read, extended: true, link: link)
            switch response.statusWord {
            case .success, StatusWord(0x6282):
                state.withLock { $0.extendedLength = .supported }
                return response.data
            case .wrongLength:
                state.withLock { $0.extendedLength = .unsupported }
            default:
                throw ISO7816Error.unexpectedStatus(response.statusWord, operation: "READ BINARY")
            }
        }
        // Short reads: the first answer tells the length.
        var file: [UInt8] = []
        var total = expectedLength
        while total.map({ file.count < $0 }) ?? true {
            guard file.count <= 0x7FFF else {
                // READ BINARY offsets end at 7FFF: a longer file cannot be read this way.
                if total == nil { break }
                throw ISO7816Error.invalidCommandParameter(
                    "the file is \(total ?? 0) bytes long, but READ BINARY offsets end at 32767")
            }
            let chunk = min(256, (total ?? Int.max) - file.count)
            let read = try CommandAPDU(
                ins: 0xB0, p1: UInt8(file.count >> 8), p2: UInt8(file.count & 0xFF), expectedLength: chunk)
            let response = try await exchangeOnce(read, extended: false, link: link)
            switch response.statusWord {
            case .success:
                file.append(contentsOf: response.data)
            case StatusWord(0x6282):
                file.append(contentsOf: response.data)
                return file
            case .wrongP1P2 where !file.isEmpty, .incorrectP1P2 where !file.isEmpty:
                return file  // offset past the end: the file ended exactly on a chunk boundary
            default:
                throw ISO7816Error.unexpectedStatus(response.statusWord, operation: "READ BINARY")
            }
            if total == nil {
                total = BERTLV.encodedLength(ofFirstObjectIn: file)
                if total == nil, response.data.count < chunk { return file }
            }
            if response.data.isEmpty { return file }
        }
        if let total, file.count > total { file.removeLast(file.count - total) }
        return file
    }
}
