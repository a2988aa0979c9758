import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A listening TCP socket on 127.0.0.1 that serves one connection at a time on a thread of its own: the fuzz
/// input reaches a client in the library (SMTP, HTTP) as a server's bytes.
public final class LoopbackServer: Sendable {
    public let descriptor: Int32
    /// The port the socket listens on.
    public let port: UInt16

    public init?() {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard bound == 0, listen(descriptor, 8) == 0, named == 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    /// Starts serving the next connection with `serve` (given the connected socket, closed afterwards); the
    /// returned semaphore is signalled when that is done, or when no client came within 10 s.
    public func serveOne(_ serve: @escaping @Sendable (Int32) -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let listening = descriptor
        Thread.detachNewThread {
            defer { done.signal() }
            var waiting = pollfd(fd: listening, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 10_000) == 1 else { return }
            let connection = accept(listening, nil, nil)
            guard connection >= 0 else { return }
            serve(connection)
            close(connection)
        }
        return done
    }

    /// Writes all of `bytes` (as far as the client takes them).
    public static func write(_ connection: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Closes the writing side, then reads until the client closes: what the client sent but the server never
    /// read then cannot turn into a reset that loses the server's last bytes.
    public static func finish(_ connection: Int32) {
        shutdown(connection, Int32(SHUT_WR))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sink = [UInt8](repeating: 0, count: 4096)
        while sink.withUnsafeMutableBytes({ recv(connection, $0.baseAddress, $0.count, 0) }) > 0 {}
    }

    /// Reads an HTTP request's head and its Content-Length body (what a client sends before it reads the answer).
    public static func readHTTPRequest(_ connection: Int32) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let separator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        while true {
            if let end = received.indices.dropLast(3).first(where: { received[$0..<($0 + 4)].elementsEqual(separator) })
            {
                let head = String(decoding: received[..<end], as: UTF8.self).lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count >= end + 4 + length { return }
            }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            received += chunk[..<count]
        }
    }
}
