import ISO7816
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serves a ``VirtualCard`` to pcscd through the vsmartcard `vpcd` reader driver, so that every PC/SC client on
/// the machine (our PCSC module, OpenSC, pcsc-tools) sees a real card in the reader.
///
/// vpcd listens on TCP (`127.0.0.1:35963` for the reader `Virtual PCD 00 00`, `:35964` for `Virtual PCD 00 01`); a
/// card is inserted by connecting and pulled by closing the socket. Messages both ways are a 2-byte big-endian
/// length and the bytes; from vpcd a 1-byte message is a control (`00` power off, `01` power on, `02` reset,
/// `04` send the ATR) and anything longer is a command APDU.
///
/// The server sets `TCP_NODELAY` and re-arms `TCP_QUICKACK` before every read: vpcd writes the length and the
/// APDU separately, and without both every APDU waits for a delayed ACK (about 40 ms instead of 0.2 ms).
///
/// ```swift
/// let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
/// try await server.insert(card)      // the card appears in "Virtual PCD 00 00"
/// server.faults.arm(.pullCard)       // the next command finds the card gone
/// await server.remove()
/// ```
///
/// The card is served on a thread of its own; ``remove()`` closes the link and waits for that thread to end.
public final class VPCDCardServer: Sendable {
    /// The vpcd host.
    public let host: String
    /// The vpcd port of the reader slot.
    public let port: UInt16
    /// Faults to apply to the commands the card receives.
    public let faults: FaultInjector

    private let link = Mutex<Link?>(nil)

    /// Prepares a server for one vpcd reader slot; no card is inserted yet.
    public init(host: String = "127.0.0.1", port: UInt16, faults: FaultInjector = FaultInjector()) {
        self.host = host
        self.port = port
        self.faults = faults
    }

    /// The vpcd port of reader slot `slot`: 35963 + slot, or `PI_VPCD_PORT` + slot when that environment variable
    /// is set (see `Scripts/private-pcscd`).
    public static func port(forSlot slot: Int) -> UInt16 {
        let base = getenv("PI_VPCD_PORT").flatMap { UInt16(String(cString: $0)) } ?? 35963
        return base + UInt16(clamping: slot)
    }

    /// Whether a card is in the reader (connected to vpcd).
    public var isInserted: Bool {
        link.withLock { $0?.isOpen ?? false }
    }

    /// Inserts a card: connects to vpcd and serves the card until ``remove()``, a swap, or a `pullCard` fault.
    /// A card already inserted is pulled first.
    ///
    /// - Throws: ``SimulatorLinkError/readerNotListening(host:port:)`` when no vpcd reader waits at the address.
    public func insert(_ card: any VirtualCard) async throws {
        await remove()
        let fd = try Self.connect(host: host, port: port)
        let newLink = Link(fd: fd, card: card, faults: faults)
        link.withLock { $0 = newLink }
        newLink.start()
    }

    /// Pulls the card: closes the link and waits until the serving thread has ended.
    public func remove() async {
        guard
            let old = link.withLock({ current -> Link? in
                defer { current = nil }
                return current
            })
        else { return }
        old.shutdown()
        await old.waitUntilFinished()
    }

    /// Pulls the current card and inserts another, as a person swaps cards in one reader.
    public func swap(to card: any VirtualCard) async throws {
        try await insert(card)
    }

    private static func connect(host: String, port: UInt16) throws(SimulatorLinkError) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw .invalidHost(host) }
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw .socket(operation: "socket", errno: errno) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            if code == ECONNREFUSED { throw .readerNotListening(host: host, port: port) }
            throw .socket(operation: "connect", errno: code)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }
}

/// One inserted card: a socket and the thread that serves it.
private final class Link: Sendable {
    private struct State {
        var open = true
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    let fd: Int32
    let card: any VirtualCard
    let faults: FaultInjector
    private let state = Mutex(State())

    init(fd: Int32, card: any VirtualCard, faults: FaultInjector) {
        self.fd = fd
        self.card = card
        self.faults = faults
    }

    var isOpen: Bool { state.withLock { $0.open } }

    func start() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        let created = pthread_create(
            &thread, nil,
            { raw in
                let link = Unmanaged<Link>.fromOpaque(raw!).takeRetainedValue()
                link.serve()
                return nil
            }, box.toOpaque())
        if created == 0 {
            pthread_detach(thread)
        } else {
            box.release()
            finish()
        }
    }

    /// Ends the link from outside; the serving thread closes the socket.
    func shutdown() {
        state.withLock { $0.open = false }
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.finished { return true }
                s.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func finish() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = false
            s.finished = true
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func serve() {
        defer {
            close(fd)
            card.handle(.powerOff)
            finish()
        }
        while let message = receive() {
            let reply: [UInt8]?
            if message.count == 1 {
                switch message[0] {
                case 0x00:
                    card.handle(.powerOff)
                    reply = nil
                case 0x01:
                    card.handle(.powerOn)
                    reply = nil
                case 0x02:
                    card.handle(.reset)
                    reply = nil
                case 0x04:
                    reply = card.atr
                default:
                    reply = nil
                }
            } else {
                switch faults.fault(for: message) {
                case .pullCard?:
                    return
                case .silence(let duration)?:
                    waitSilently(for: duration)
                    return
                case let fault?:
                    reply = FaultInjector.apply(fault, to: card.respond(to: message))
                case nil:
                    reply = card.respond(to: message)
                }
            }
            if let reply, !send(reply) { return }
        }
    }

    /// Reads one framed message; `nil` when the link closed.
    private func receive() -> [UInt8]? {
        var one: Int32 = 1
        // vpcd sends the length and the APDU in two writes: acknowledge at once, or each APDU waits ~40 ms.
        setsockopt(fd, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
        guard let header = readExactly(2) else { return nil }
        let length = Int(header[0]) << 8 | Int(header[1])
        guard length > 0 else { return [] }
        setsockopt(fd, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
        return readExactly(length)
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                recv(fd, raw.baseAddress! + got, count - got, 0)
            }
            if n > 0 {
                got += n
            } else if n < 0, errno == EINTR {
                continue
            } else {
                return nil
            }
        }
        return buffer
    }

    private func send(_ payload: [UInt8]) -> Bool {
        let frame = [UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count & 0xFF)] + payload
        var sent = 0
        while sent < frame.count {
            let n = frame.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, frame.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                sent += n
            } else if n < 0, errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Waits out a silence fault, ending early when the link is closed from outside.
    private func waitSilently(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, milliseconds)
    }
}
