public import ISO7816
public import Logging
import Synchronization

#if canImport(CPCSCLite)
    import CPCSCLite
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A connection to the card in one reader (`SCARDHANDLE`): an ISO7816 `CardConnection` over PC/SC.
///
/// Every call runs on the thread of the ``PCSCContext`` that made the connection. Wrap it in a `CardChannel` to
/// get GET RESPONSE, `6Cxx` and chaining handled.
///
/// - A card reset by another application (`SCARD_W_RESET_CARD`) is reconnected at once, leaving the card as it is,
///   and the command fails with ``PCSCError/Code-swift.struct/resetCard``: the card's session state (selected application,
///   verified PINs) is gone, so only the caller knows whether repeating the command is safe.
/// - A pulled card fails with ``PCSCError/Code-swift.struct/removedCard``.
/// - When the connection goes away without ``disconnect(_:)``, the card is left as it is (no reset).
public actor PCSCCard: CardConnection {
    /// The context that made this connection.
    public nonisolated let context: PCSCContext
    /// The reader's name.
    public nonisolated let readerName: String
    /// The share mode asked for.
    public nonisolated let shareMode: ShareMode
    /// The protocols asked for.
    public nonisolated let preferredProtocols: PCSCProtocols
    /// The protocol the card and reader agreed on (it changes only on ``reconnect(initialization:)``).
    public nonisolated var activeProtocol: PCSCProtocols {
        PCSCProtocols(rawValue: activeProtocolBits.load(ordering: .relaxed))
    }
    private nonisolated let activeProtocolBits: Atomic<UInt32>
    /// Where APDUs are traced, at `trace` level, with the data of PIN commands masked.
    public nonisolated let logger: Logger

    private var handle: SCARDHANDLE
    private var connected = true
    /// One receive buffer, large enough for an extended response (65536 + 2).
    private var receiveBuffer = [UInt8](repeating: 0, count: 65538)

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        context.thread.asUnownedSerialExecutor()
    }

    init(
        context: PCSCContext, reader: String, handle: SCARDHANDLE, share: ShareMode, preferred: PCSCProtocols,
        active: PCSCProtocols
    ) {
        self.context = context
        self.readerName = reader
        self.handle = handle
        self.shareMode = share
        self.preferredProtocols = preferred
        self.activeProtocolBits = Atomic(active.rawValue)
        self.logger = Logger(label: "procurement-identity.pcsc")
    }

    deinit {
        if connected { _ = SCardDisconnect(handle, DWORD(Disposition.leave.rawValue)) }
    }

    /// Sends one APDU as it is and returns the card's answer (`SCardTransmit` with the PCI of the active protocol).
    ///
    /// Called from the connection's own thread (a task running with `withTaskExecutorPreference(context.thread)`),
    /// the call goes straight to pcsc-lite with no hop; from anywhere else it hops to that thread and back.
    public nonisolated func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        if context.thread.isCurrent {
            return try transmitAlreadyOnThread(command)
        }
        return try await transmitIsolated(command)
    }

    /// The caller runs on the connection's thread, where every job of this actor runs: it is isolated already.
    private nonisolated func transmitAlreadyOnThread(_ command: [UInt8]) throws -> [UInt8] {
        try assumeIsolated { card in try card.transmitOnThread(command) }
    }

    private func transmitIsolated(_ command: [UInt8]) throws -> [UInt8] {
        try transmitOnThread(command)
    }

    private func transmitOnThread(_ command: [UInt8]) throws -> [UInt8] {
        guard connected else { throw PCSCError(.invalidHandle) }
        var pci = activeProtocol == .t0 ? pi_pci_t0() : (activeProtocol == .raw ? pi_pci_raw() : pi_pci_t1())
        var length = DWORD(receiveBuffer.count)
        let result = command.withUnsafeBufferPointer { send in
            receiveBuffer.withUnsafeMutableBufferPointer { receive in
                SCardTransmit(handle, &pci, send.baseAddress, DWORD(send.count), nil, receive.baseAddress, &length)
            }
        }
        if result != SCARD_S_SUCCESS {
            let error = PCSCError(code: Int64(result)) ?? PCSCError(.internalError)
            if error.failure == .cardUnresponsive, !isCardStillPresent() {
                try fail(LONG(bitPattern: UInt(0x8010_0069)), during: "SCardTransmit")  // SCARD_W_REMOVED_CARD
            }
            try fail(result, during: "SCardTransmit")
        }
        if length == 0 {
            // No card answers nothing (a status word is always there): the link lost the card mid-command.
            // vpcd reports that as success with no bytes before pcscd has noticed the card is gone.
            let code: UInt = isCardStillPresent() ? 0x8010_0066 : 0x8010_0069  // UNRESPONSIVE or REMOVED
            try fail(LONG(bitPattern: code), during: "SCardTransmit")
        }
        let response = Array(receiveBuffer[0..<Int(length)])
        if logger.logLevel <= .trace {
            logger.trace(
                "APDU",
                metadata: [
                    "reader": "\(readerName)", "command": "\(Self.masked(command))",
                    "response": "\(Hex.encode(response))",
                ])
        }
        return response
    }

    /// The ISO7816 view of the active protocol; read without a hop to the connection's thread.
    public nonisolated var transmissionProtocol: TransmissionProtocol {
        activeProtocol.transmissionProtocol
    }

    /// The card's answer to reset, from `SCardStatus`; empty when the card is gone.
    public var atr: [UInt8] {
        (try? status().atr) ?? []
    }

    /// Reader, state, protocol and ATR of the connected card (`SCardStatus`).
    public func status() throws -> CardStatus {
        guard connected else { throw PCSCError(.invalidHandle) }
        var nameLength = DWORD(0)
        var state = DWORD(0)
        var proto = DWORD(0)
        var atr = [UInt8](repeating: 0, count: 33)
        var atrLength = DWORD(atr.count)
        var result = SCardStatus(handle, nil, &nameLength, &state, &proto, &atr, &atrLength)
        if result != SCARD_S_SUCCESS { try fail(result, during: "SCardStatus") }
        var name = [CChar](repeating: 0, count: Int(nameLength) + 1)
        atrLength = DWORD(atr.count)
        result = SCardStatus(handle, &name, &nameLength, &state, &proto, &atr, &atrLength)
        if result != SCARD_S_SUCCESS { try fail(result, during: "SCardStatus") }
        return CardStatus(
            readerName: splitMultiString(name).first ?? readerName, rawState: UInt32(truncatingIfNeeded: state),
            activeProtocol: PCSCProtocols(rawValue: UInt32(truncatingIfNeeded: proto)),
            atr: Array(atr.prefix(Int(atrLength))))
    }

    /// Runs `body` inside a PC/SC transaction (`SCardBeginTransaction` … `SCardEndTransaction`): no other
    /// application's commands reach the card in between. The transaction ends however `body` ends.
    ///
    /// The transaction keeps other *applications* out; tasks of this program that share the connection are not
    /// kept out, so give a sequence of commands to one task.
    ///
    /// - Parameters:
    ///   - disposition: What to do with the card when the transaction ends; leave it, by default.
    ///   - body: The commands of the transaction.
    public func withTransaction<T: Sendable>(
        disposition: Disposition = .leave, _ body: @Sendable (PCSCCard) async throws -> T
    ) async throws -> T {
        guard connected else { throw PCSCError(.invalidHandle) }
        let result = SCardBeginTransaction(handle)
        if result != SCARD_S_SUCCESS { try fail(result, during: "SCardBeginTransaction") }
        do {
            let value = try await body(self)
            try endTransaction(disposition)
            return value
        } catch {
            try? endTransaction(disposition)
            throw error
        }
    }

    private func endTransaction(_ disposition: Disposition) throws {
        guard connected else { return }
        let result = SCardEndTransaction(handle, DWORD(disposition.rawValue))
        if result != SCARD_S_SUCCESS { try fail(result, during: "SCardEndTransaction") }
    }

    /// Reconnects (`SCardReconnect`), for example to reset the card or to change the share mode's protocols.
    public func reconnect(initialization: Disposition = .leave) throws {
        guard connected else { throw PCSCError(.invalidHandle) }
        var active = DWORD()
        let result = SCardReconnect(
            handle, DWORD(shareMode.rawValue), DWORD(preferredProtocols.rawValue),
            DWORD(initialization.rawValue), &active)
        if result != SCARD_S_SUCCESS { try fail(result, during: "SCardReconnect", reconnectOnReset: false) }
        activeProtocolBits.store(UInt32(truncatingIfNeeded: active), ordering: .relaxed)
    }

    /// Ends the connection (`SCardDisconnect`) and leaves the card as it is.
    public func disconnect() {
        disconnect(.leave)
    }

    /// Ends the connection (`SCardDisconnect`) with the given disposition. Later calls fail with
    /// ``PCSCError/Code-swift.struct/invalidHandle``.
    public func disconnect(_ disposition: Disposition) {
        guard connected else { return }
        connected = false
        _ = SCardDisconnect(handle, DWORD(disposition.rawValue))
    }

    /// Sends a control code to the reader (`SCardControl`) and returns its answer.
    ///
    /// - Parameters:
    ///   - code: The control code, such as one from ``features()`` or ``ReaderFeatures/controlCode(_:)``.
    ///   - input: The bytes to send.
    public func control(_ code: UInt32, input: [UInt8] = []) throws -> [UInt8] {
        guard connected else { throw PCSCError(.invalidHandle) }
        var output = [UInt8](repeating: 0, count: 65536)
        var length = DWORD(0)
        let result = input.withUnsafeBytes { inBytes in
            output.withUnsafeMutableBytes { outBytes in
                SCardControl(
                    handle, DWORD(code), inBytes.baseAddress, DWORD(inBytes.count), outBytes.baseAddress,
                    DWORD(outBytes.count), &length)
            }
        }
        if result != SCARD_S_SUCCESS { try fail(result, during: "SCardControl") }
        return Array(output.prefix(Int(length)))
    }

    /// The reader's CCID features (`CM_IOCTL_GET_FEATURE_REQUEST`, PC/SC part 10): which control codes it offers,
    /// such as PIN entry on its own keypad. A reader whose driver takes no control codes at all (older vpcd, many
    /// contactless readers) has no features.
    public func features() throws -> ReaderFeatures {
        do {
            return try ReaderFeatures(parsing: control(UInt32(pi_scard_ctl_code(3400))))
        } catch let error as PCSCError where error.code == .unsupportedFeature {
            return try ReaderFeatures(parsing: [])
        }
    }

    /// Verifies a PIN typed on the reader's own keypad (`FEATURE_VERIFY_PIN_DIRECT`): the PIN never passes
    /// through this program.
    ///
    /// - Throws: ``PCSCError/Code-swift.struct/unsupportedFeature`` when the reader has no PIN pad.
    public func verifyPINOnPad(_ request: PINPadVerifyRequest) throws -> ResponseAPDU {
        guard let code = try features().controlCode(.verifyPINDirect) else { throw PCSCError(.unsupportedFeature) }
        let answer = try control(code, input: request.encoded())
        return try ResponseAPDU(bytes: answer)
    }

    /// Whether the card is still in the reader, asking pcscd for up to a second: pcscd notices a pulled card
    /// only at its next poll of the reader.
    private func isCardStillPresent() -> Bool {
        let deadline = ContinuousClock.now + .seconds(1)
        repeat {
            var nameLength = DWORD(0)
            var state = DWORD(0)
            var proto = DWORD(0)
            var atrLength = DWORD(0)
            let result = SCardStatus(handle, nil, &nameLength, &state, &proto, nil, &atrLength)
            if result != SCARD_S_SUCCESS && result != LONG(bitPattern: UInt(0x8010_0008)) { return false }
            if state & DWORD(SCARD_PRESENT) == 0 { return false }
            usleep(50_000)
        } while ContinuousClock.now < deadline
        return true
    }

    /// Turns a failed call into an error, reconnecting first when another application reset the card.
    private func fail(_ result: LONG, during call: String, reconnectOnReset: Bool = true) throws -> Never {
        let error = PCSCError(code: Int64(result)) ?? PCSCError(.internalError)
        logger.debug("\(call) failed", metadata: ["reader": "\(readerName)", "error": "\(error.code.name)"])
        if error.code == .resetCard, reconnectOnReset {
            try? reconnect(initialization: .leave)
        }
        if [.noService, .serviceStopped, .invalidHandle].contains(error.code) {
            connected = false
        }
        throw error
    }

    /// The command in hex, with the data of PIN commands (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER)
    /// masked.
    static func masked(_ command: [UInt8]) -> String {
        guard command.count > 5, [0x20, 0x21, 0x24, 0x2C].contains(command[1]) else { return Hex.encode(command) }
        return Hex.encode(command.prefix(4)) + " <redacted>"
    }
}
