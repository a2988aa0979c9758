import Synchronization

#if canImport(CPCSCLite)
    import CPCSCLite
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A change in the readers or their cards.
public enum ReaderEvent: Sendable, Hashable, CustomStringConvertible {
    /// A reader appeared (plugged in), or was there when watching began.
    case readerAdded(String)
    /// A reader went away (unplugged).
    case readerRemoved(String)
    /// A card went into a reader, or was in it when watching began.
    case cardInserted(reader: String, atr: [UInt8])
    /// A card left a reader.
    case cardRemoved(reader: String)

    public var description: String {
        switch self {
        case .readerAdded(let reader): "reader added: \(reader)"
        case .readerRemoved(let reader): "reader removed: \(reader)"
        case .cardInserted(let reader, let atr): "card inserted: \(reader) (ATR \(hex(atr)))"
        case .cardRemoved(let reader): "card removed: \(reader)"
        }
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }.joined(separator: " ")
}

/// Reader and card events as an `AsyncSequence`: cards inserted and removed, readers added and removed (through
/// pcsc-lite's `\\?PnP?\Notification` pseudo-reader).
///
/// Each iteration watches on a PC/SC context and thread of its own, waiting in `SCardGetStatusChange` with a
/// finite timeout. Cancelling the task that iterates ends the wait at once (`SCardCancel`) and the sequence ends
/// cleanly, without an error.
///
/// ```swift
/// for try await event in ReaderEvents() {
///     print(event)      // "card inserted: Virtual PCD 00 00 (ATR 3B …)"
/// }
/// ```
public struct ReaderEvents: AsyncSequence, Sendable {
    public typealias Element = ReaderEvent

    /// The readers watched; every reader, including ones plugged in later, when `nil`.
    public let readers: [String]?
    /// Whether the sequence begins with events that describe the present state (each reader, each card in one).
    public let includeCurrentState: Bool

    /// Describes what to watch.
    public init(readers: [String]? = nil, includeCurrentState: Bool = true) {
        self.readers = readers
        self.includeCurrentState = includeCurrentState
    }

    public func makeAsyncIterator() -> Iterator {
        let (stream, continuation) = AsyncThrowingStream<ReaderEvent, any Error>.makeStream()
        let monitor = Monitor(readers: readers, includeCurrentState: includeCurrentState, sink: continuation)
        continuation.onTermination = { _ in monitor.stop() }
        monitor.start()
        return Iterator(base: stream.makeAsyncIterator())
    }

    /// Iterates the events.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ReaderEvent, any Error>.Iterator

        public mutating func next() async throws -> ReaderEvent? {
            try await base.next()
        }
    }
}

/// The thread that waits for changes and turns them into events.
private final class Monitor: Sendable {
    static let pnpReader = "\\\\?PnP?\\Notification"

    let readers: [String]?
    let includeCurrentState: Bool
    let sink: AsyncThrowingStream<ReaderEvent, any Error>.Continuation
    let context = Atomic<Int>(0)
    let stopped = Atomic<Bool>(false)

    init(
        readers: [String]?, includeCurrentState: Bool, sink: AsyncThrowingStream<ReaderEvent, any Error>.Continuation
    ) {
        self.readers = readers
        self.includeCurrentState = includeCurrentState
        self.sink = sink
    }

    func start() {
        if startDetachedThread({ self.run() }) == nil {
            sink.finish(throwing: PCSCError(.noMemory))
        }
    }

    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        let handle = context.load(ordering: .sequentiallyConsistent)
        if handle != 0 { _ = SCardCancel(SCARDCONTEXT(handle)) }
    }

    private func run() {
        var handle = SCARDCONTEXT()
        let result = SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &handle)
        guard result == SCARD_S_SUCCESS else {
            sink.finish(throwing: PCSCError(code: Int64(result)) ?? PCSCError(.internalError))
            return
        }
        context.store(Int(handle), ordering: .sequentiallyConsistent)
        defer {
            context.store(0, ordering: .sequentiallyConsistent)
            SCardReleaseContext(handle)
        }
        if stopped.load(ordering: .sequentiallyConsistent) {
            sink.finish()
            return
        }
        do {
            try watch(handle)
            sink.finish()
        } catch  where error.code == .cancelled {
            sink.finish()
        } catch {
            sink.finish(throwing: error)
        }
    }

    private func watch(_ handle: SCARDCONTEXT) throws(PCSCError) {
        let watchAll = readers == nil
        var names: [String]
        if let readers { names = readers } else { names = try PCSCContext.listReaders(handle) }
        var states = ReaderStateArray(names: names + (watchAll ? [Self.pnpReader] : []))
        var result = states.getStatusChange(handle, timeoutMilliseconds: 0)
        if result != LONG(bitPattern: UInt(0x8010_000A)) { try check(result) }  // SCARD_E_TIMEOUT is fine
        var previous = Dictionary(
            states.statuses().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        if includeCurrentState {
            for name in names {
                guard let status = previous[name] else { continue }
                if watchAll { sink.yield(.readerAdded(name)) }
                if status.isCardPresent { sink.yield(.cardInserted(reader: name, atr: status.atr)) }
            }
        }
        states.acknowledge()

        while !stopped.load(ordering: .sequentiallyConsistent) {
            result = states.getStatusChange(handle, timeoutMilliseconds: 500)
            if stopped.load(ordering: .sequentiallyConsistent) { return }
            if result == LONG(bitPattern: UInt(0x8010_000A)) { continue }  // SCARD_E_TIMEOUT
            // A reader that vanished makes the wait fail at once; the PnP check below lists readers again.
            let readerVanished = result == LONG(bitPattern: UInt(0x8010_0009))  // SCARD_E_UNKNOWN_READER
            if !readerVanished { try check(result) }

            let current = states.statuses()
            var pnpChanged = readerVanished
            for (index, status) in current.enumerated() {
                let raw = states.states[index].dwEventState
                if status.name == Self.pnpReader {
                    if raw & 0x0002 != 0 { pnpChanged = true }
                    continue
                }
                guard raw & 0x0002 != 0 else { continue }  // SCARD_STATE_CHANGED
                let before = previous[status.name]
                let wasPresent = before?.isCardPresent ?? false
                let counterBefore = UInt32(truncatingIfNeeded: states.states[index].dwCurrentState) >> 16
                let counterNow = UInt32(truncatingIfNeeded: raw) >> 16
                if status.state.contains(.unknown) || status.state.contains(.unavailable) {
                    if wasPresent { sink.yield(.cardRemoved(reader: status.name)) }
                    if !watchAll { sink.yield(.readerRemoved(status.name)) }
                } else if wasPresent && !status.isCardPresent {
                    sink.yield(.cardRemoved(reader: status.name))
                } else if !wasPresent && status.isCardPresent {
                    sink.yield(.cardInserted(reader: status.name, atr: status.atr))
                } else if wasPresent && status.isCardPresent && counterBefore != counterNow
                    && (before?.atr != status.atr || counterNow &- counterBefore >= 2)
                {
                    // Swapped between two waits: report both halves.
                    sink.yield(.cardRemoved(reader: status.name))
                    sink.yield(.cardInserted(reader: status.name, atr: status.atr))
                }
                previous[status.name] = status
            }
            states.acknowledge()

            if pnpChanged && watchAll {
                let now = try PCSCContext.listReaders(handle)
                for gone in names where !now.contains(gone) {
                    if previous[gone]?.isCardPresent ?? false { sink.yield(.cardRemoved(reader: gone)) }
                    sink.yield(.readerRemoved(gone))
                    previous[gone] = nil
                }
                for added in now where !names.contains(added) {
                    sink.yield(.readerAdded(added))
                }
                names = now
                states = states.rebuilt(names: now + [Self.pnpReader])
            }
        }
    }
}

extension ReaderStateArray {
    /// A new array for `names` that keeps the known state of readers it already watched.
    consuming func rebuilt(names newNames: [String]) -> ReaderStateArray {
        var fresh = ReaderStateArray(names: newNames)
        for (index, name) in newNames.enumerated() {
            if let old = names.firstIndex(of: name) {
                fresh.states[index].dwCurrentState = states[old].dwCurrentState
            }
        }
        return fresh
    }
}
