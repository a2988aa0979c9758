import ISO7816
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(CPCSCLite)
    import CPCSCLite
#endif

/// A PC/SC resource-manager context (`SCARDCONTEXT`): lists readers, reports their state and connects to cards.
///
/// Every call runs on the context's own thread (``PCSCThread``), never on Swift's cooperative pool, because
/// pcsc-lite calls block. Connections made from a context share its thread. Create one context per independent
/// activity; a context is safe to use from concurrent tasks (it is an actor).
///
/// When pcscd stops or restarts, the old context fails every call with `SCARD_E_NO_SERVICE` while still
/// looking valid. This type then releases it, throws a ``PCSCError`` of code
/// ``PCSCError/Code-swift.struct/noService``, and establishes a fresh context on the next call, waiting a little longer after each failure
/// (100 ms doubling to 5 s) so a stopped service is not hammered.
///
/// ```swift
/// let context = try PCSCContext()
/// for reader in try await context.readerStatuses() where reader.isCardPresent {
///     let card = try await context.connect(to: reader.name)
///     let channel = CardChannel(transport: card)
/// }
/// ```
public actor PCSCContext {
    /// The thread that runs this context's (and its connections') PC/SC calls.
    public nonisolated let thread: PCSCThread
    /// The raw `SCARDCONTEXT`, readable from any thread for `SCardCancel`; 0 while none is established.
    private nonisolated let rawHandle = Atomic<Int>(0)
    private var retryDelay: Duration = .milliseconds(100)
    private var nextAttempt: ContinuousClock.Instant?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        thread.asUnownedSerialExecutor()
    }

    /// Establishes a context with pcscd (`SCardEstablishContext`, system scope).
    ///
    /// - Throws: ``PCSCError/Code-swift.struct/noService`` when pcscd is not running.
    public init() throws(PCSCError) {
        thread = try PCSCThread()
        rawHandle.store(try Self.establish(), ordering: .sequentiallyConsistent)
    }

    deinit {
        let handle = rawHandle.load(ordering: .sequentiallyConsistent)
        if handle != 0 { _ = SCardReleaseContext(SCARDCONTEXT(handle)) }
    }

    private static func establish() throws(PCSCError) -> Int {
        var handle = SCARDCONTEXT()
        try check(SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &handle))
        return Int(handle)
    }

    /// The live context handle, establishing a new one after pcscd went away.
    func contextHandle() async throws -> SCARDCONTEXT {
        let current = rawHandle.load(ordering: .sequentiallyConsistent)
        if current != 0 { return SCARDCONTEXT(current) }
        if let nextAttempt {
            try await Task.sleep(until: nextAttempt, clock: .continuous)
        }
        do {
            let handle = try Self.establish()
            rawHandle.store(handle, ordering: .sequentiallyConsistent)
            retryDelay = .milliseconds(100)
            nextAttempt = nil
            return SCARDCONTEXT(handle)
        } catch {
            noteFailure(error)
            throw error
        }
    }

    /// Runs a call that needs the context; drops the context when pcscd turns out to be gone.
    ///
    /// When pcscd stops or restarts, libpcsclite may fail the old context's calls with `SCARD_E_INVALID_HANDLE`
    /// or `SCARD_W_SECURITY_VIOLATION` rather than `SCARD_E_NO_SERVICE`. After such an error the call is tried
    /// once more on a fresh context; if pcscd is not there, the error says so (``PCSCError/Code-swift.struct/noService``).
    func withContext<T>(_ body: (SCARDCONTEXT) throws(PCSCError) -> T) async throws -> T {
        let handle = try await contextHandle()
        do {
            return try body(handle)
        } catch {
            guard Self.mayMeanServiceLost(error) else {
                noteFailure(error)
                throw error
            }
            forgetContext()
            let fresh = try await contextHandle()  // throws noService when pcscd is gone
            do {
                return try body(fresh)
            } catch {
                noteFailure(error)
                throw error
            }
        }
    }

    /// Errors that an old context gives when the pcscd it was made with is gone.
    static func mayMeanServiceLost(_ error: PCSCError) -> Bool {
        switch error.code {
        case .noService, .serviceStopped, .invalidHandle, .securityViolation, .communicationError: true
        default: error.code.rawValue > 0 && !error.code.isNamed  // a code pcsc-lite did not know either
        }
    }

    /// Releases the context so the next call establishes a new one at once.
    private func forgetContext() {
        let old = rawHandle.exchange(0, ordering: .sequentiallyConsistent)
        if old != 0 { _ = SCardReleaseContext(SCARDCONTEXT(old)) }
        nextAttempt = nil
    }

    /// Records a failure; on a lost service, forgets the context so the next call establishes a new one.
    func noteFailure(_ error: PCSCError) {
        guard Self.mayMeanServiceLost(error) else { return }
        let old = rawHandle.exchange(0, ordering: .sequentiallyConsistent)
        if old != 0 { _ = SCardReleaseContext(SCARDCONTEXT(old)) }
        nextAttempt = ContinuousClock.now + retryDelay
        retryDelay = min(retryDelay * 2, .seconds(5))
    }

    /// Whether pcscd still answers for this context (`SCardIsValidContext`).
    public func isValid() -> Bool {
        let handle = rawHandle.load(ordering: .sequentiallyConsistent)
        return handle != 0 && SCardIsValidContext(SCARDCONTEXT(handle)) == SCARD_S_SUCCESS
    }

    /// The names of the readers pcscd knows (`SCardListReaders`); empty when there are none.
    public func readers() async throws -> [String] {
        try await withContext { (context) throws(PCSCError) -> [String] in try Self.listReaders(context) }
    }

    static func listReaders(_ context: SCARDCONTEXT) throws(PCSCError) -> [String] {
        var length = DWORD(0)
        var result = SCardListReaders(context, nil, nil, &length)
        if result == LONG(bitPattern: UInt(0x8010_002E)) { return [] }  // SCARD_E_NO_READERS_AVAILABLE
        try check(result)
        var buffer = [CChar](repeating: 0, count: Int(length))
        result = SCardListReaders(context, nil, &buffer, &length)
        if result == LONG(bitPattern: UInt(0x8010_002E)) { return [] }
        try check(result)
        return splitMultiString(buffer)
    }

    /// Each reader with its state and the ATR of the card in it, read now without waiting
    /// (`SCardGetStatusChange` with a zero timeout).
    ///
    /// - Parameter readers: The readers to ask about; all of them when `nil`.
    public func readerStatuses(of readers: [String]? = nil) async throws -> [ReaderStatus] {
        try await withContext { (context) throws(PCSCError) -> [ReaderStatus] in
            let names: [String]
            if let readers { names = readers } else { names = try Self.listReaders(context) }
            guard !names.isEmpty else { return [] }
            var states = ReaderStateArray(names: names)
            try check(states.getStatusChange(context, timeoutMilliseconds: 0))
            return states.statuses()
        }
    }

    /// Connects to the card in a reader (`SCardConnect`).
    ///
    /// - Parameters:
    ///   - reader: The reader's name.
    ///   - share: Shared (the default) or exclusive access, or direct access to the reader alone.
    ///   - protocols: The protocols to accept; T=0 or T=1 by default.
    /// - Throws: ``PCSCError/Code-swift.struct/noSmartcard`` when the reader is empty, ``PCSCError/Code-swift.struct/sharingViolation`` when another
    ///   application holds the card exclusively, ``PCSCError/Code-swift.struct/unknownReader`` for a wrong name.
    public func connect(
        to reader: String, share: ShareMode = .shared, protocols: PCSCProtocols = .any
    ) async throws -> PCSCCard {
        let (handle, active) = try await withContext { (context) throws(PCSCError) -> (SCARDHANDLE, DWORD) in
            var handle = SCARDHANDLE()
            var active = DWORD()
            try check(
                SCardConnect(
                    context, reader, DWORD(share.rawValue),
                    share == .direct ? 0 : DWORD(protocols.rawValue), &handle, &active))
            return (handle, active)
        }
        return PCSCCard(
            context: self, reader: reader, handle: handle, share: share, preferred: protocols,
            active: PCSCProtocols(rawValue: UInt32(active)))
    }

    /// Ends a wait of ``PCSCCard`` or ``readerStatuses(of:)`` on this context from any thread (`SCardCancel`).
    public nonisolated func cancel() {
        let handle = rawHandle.load(ordering: .sequentiallyConsistent)
        if handle != 0 { _ = SCardCancel(SCARDCONTEXT(handle)) }
    }

    /// A slot for flows: the reader `name` seen through the ISO7816 `CardSlot` protocol.
    public nonisolated func slot(named name: String) -> PCSCReaderSlot {
        PCSCReaderSlot(context: self, name: name)
    }
}

/// An array of `SCARD_READERSTATE` with the reader names it points to kept alive.
struct ReaderStateArray: ~Copyable {
    private(set) var names: [String]
    private var cNames: [UnsafeMutablePointer<CChar>]
    var states: [SCARD_READERSTATE]

    init(names: [String]) {
        self.names = names
        cNames = names.map { strdup($0)! }
        states = cNames.map { name in
            var state = SCARD_READERSTATE()
            state.szReader = UnsafePointer(name)
            state.dwCurrentState = DWORD(0)  // SCARD_STATE_UNAWARE
            return state
        }
    }

    deinit {
        for name in cNames { free(name) }
    }

    mutating func getStatusChange(_ context: SCARDCONTEXT, timeoutMilliseconds: DWORD) -> LONG {
        let count = DWORD(states.count)
        return states.withUnsafeMutableBufferPointer { buffer in
            SCardGetStatusChange(context, timeoutMilliseconds, buffer.baseAddress, count)
        }
    }

    /// Makes the states just reported the ones the next wait starts from.
    mutating func acknowledge() {
        for i in states.indices {
            states[i].dwCurrentState = states[i].dwEventState & ~DWORD(0x0002)  // without SCARD_STATE_CHANGED
        }
    }

    func statuses() -> [ReaderStatus] {
        zip(names, states).map { name, state in
            ReaderStatus(
                name: name, state: ReaderState(rawValue: UInt32(truncatingIfNeeded: state.dwEventState)),
                atr: Self.atr(of: state))
        }
    }

    static func atr(of state: SCARD_READERSTATE) -> [UInt8] {
        let count = min(Int(state.cbAtr), 33)
        return withUnsafeBytes(of: state.rgbAtr) { Array($0.prefix(count)) }
    }
}
