public import CardCredentials
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// The user name and password for SMTP `AUTH PLAIN` (RFC 4954).
///
/// The password is a `SecretPIN` (make it with `PINPolicy.password(length:allowedCharacters:)`): it wipes its
/// bytes when it goes away and always prints as `<redacted>`.
public struct SMTPCredentials: Sendable, CustomStringConvertible {
    /// The user name (authentication identity).
    public var username: String
    /// The password; never printed or logged.
    public var password: SecretPIN

    /// Credentials for `AUTH PLAIN`.
    public init(username: String, password: SecretPIN) {
        self.username = username
        self.password = password
    }

    /// The user name and `<redacted>`.
    public var description: String { "SMTPCredentials(username: \(username), password: <redacted>)" }
}

/// A small SMTP client (RFC 5321) that hands each mail to a relay over a plain TCP connection: one connection
/// per mail, `EHLO` (or `HELO` when the server refuses `EHLO`), optional `AUTH PLAIN`, `MAIL FROM`, one
/// `RCPT TO` per recipient, `DATA` with dot-stuffing, `QUIT`.
///
/// It speaks **no STARTTLS**: it is meant for a relay on the loopback interface or the local network (postfix or
/// another MTA on the same host, which then delivers onward with TLS). Do not point it at a server across the
/// Internet, and do not send a password to a relay that is not on a trusted network.
///
/// Replies map to errors as the outbox needs them: a 4xx reply is
/// ``RegistrationError/mailRejected(code:message:)`` that is retried, a 5xx reply the same error for good, and a
/// refused, broken or silent connection (past ``timeout``) ``RegistrationError/mailServerUnreachable(_:)``.
/// When one recipient of several is refused, the whole mail is abandoned (nothing is sent) so that a retry does
/// not deliver twice to the others.
///
/// The socket I/O blocks, so each ``send(_:)`` runs the conversation on a thread of its own, never on Swift's
/// cooperative pool.
///
/// ```swift
/// let transport = SMTPMailTransport(host: "127.0.0.1", port: 25, heloName: "portal.example.go.jp")
/// try await transport.send(mail)
/// ```
public struct SMTPMailTransport: MailTransport {
    /// The relay's host name or address.
    public var host: String
    /// The relay's TCP port (25, or 587 for a submission port without TLS on a LAN).
    public var port: UInt16
    /// The name this client gives in `EHLO`/`HELO` (its own host name).
    public var heloName: String
    /// Credentials for `AUTH PLAIN`, or nil to send without authentication.
    public var credentials: SMTPCredentials?
    /// How long to wait for the connection, for each reply and for each write.
    public var timeout: Duration

    private let logger = Logger(label: "ProcurementIdentity.SMTP")

    /// A client of the relay at `host`:`port`.
    public init(
        host: String = "127.0.0.1", port: UInt16 = 25, heloName: String, credentials: SMTPCredentials? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.heloName = heloName
        self.credentials = credentials
        self.timeout = timeout
    }

    /// Sends `message` to all its recipients, on a thread of its own.
    ///
    /// - Throws: ``RegistrationError/mailRejected(code:message:)``,
    ///   ``RegistrationError/mailServerUnreachable(_:)``, or ``RegistrationError/invalidField(field:reason:)`` for
    ///   a message that is not valid.
    public func send(_ message: MailMessage) async throws(RegistrationError) {
        let bytes = try message.rfc5322Bytes()
        try await send(data: bytes, from: message.from, to: message.to)
    }

    /// Sends ready-made RFC 5322 bytes (CRLF lines) in one SMTP conversation.
    func send(data: [UInt8], from: MailAddress, to recipients: [MailAddress]) async throws(RegistrationError) {
        guard !heloName.isEmpty, heloName.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .invalidField(field: "HELO name", reason: "it must be a host name in ASCII, without spaces")
        }
        for address in [from] + recipients where (try? MailAddress(address.text)) != address {
            throw .invalidField(field: "メールアドレス", reason: "\(address.text.debugDescription) is not a mail address")
        }
        let result: Result<Void, RegistrationError> = await withCheckedContinuation { continuation in
            let started = DeliveryThread.start {
                continuation.resume(
                    returning: Result { () throws(RegistrationError) in
                        try self.converse(data: data, from: from, to: recipients)
                    })
            }
            if !started {
                continuation.resume(
                    returning: .failure(.mailServerUnreachable("no thread could be started for the SMTP conversation")))
            }
        }
        try result.get()
    }

    // MARK: - The conversation (on the thread)

    private func converse(data: [UInt8], from: MailAddress, to recipients: [MailAddress]) throws(RegistrationError) {
        let connection = try SMTPConnection(host: host, port: port, timeout: timeout, logger: logger)
        let greeting = try connection.readReply()
        try expect(greeting, 220, during: "the greeting")

        let ehlo = try connection.command("EHLO \(heloName)")
        if ehlo.code / 100 == 5 {
            try expect(try connection.command("HELO \(heloName)"), 250, during: "HELO")
        } else {
            try expect(ehlo, 250, during: "EHLO")
        }

        if let credentials { try authenticate(credentials, on: connection) }

        try expect(try connection.command("MAIL FROM:<\(from.text)>"), 250, during: "MAIL FROM")
        for recipient in recipients {
            try expect(try connection.command("RCPT TO:<\(recipient.text)>"), 250, 251, during: "RCPT TO")
        }
        try expect(try connection.command("DATA"), 354, during: "DATA")
        var content = Self.dotStuffed(data)
        content += Array(".\r\n".utf8)
        try connection.write(content)
        try expect(try connection.readReply(), 250, during: "the end of DATA")
        // The relay took the mail; a failure from here on changes nothing.
        _ = try? connection.command("QUIT")
    }

    private func authenticate(_ credentials: SMTPCredentials, on connection: SMTPConnection) throws(RegistrationError) {
        let user = Array(credentials.username.utf8)
        var plain: [UInt8] = []
        plain.reserveCapacity(user.count + credentials.password.count + 2)
        plain.append(0)
        plain += user
        plain.append(0)
        credentials.password.withUnsafeBytes { plain.append(contentsOf: $0) }
        var encoded = MIMEEncoding.base64(plain)
        Self.wipe(&plain)
        var line: [UInt8] = []
        line.reserveCapacity(encoded.count + 13)
        line += Array("AUTH PLAIN ".utf8)
        line += encoded
        line += [0x0D, 0x0A]
        Self.wipe(&encoded)
        defer { Self.wipe(&line) }
        logger.trace("SMTP C: AUTH PLAIN <redacted>")
        try connection.write(line)
        try expect(try connection.readReply(), 235, during: "AUTH PLAIN")
    }

    private func expect(_ reply: SMTPReply, _ codes: Int..., during step: String) throws(RegistrationError) {
        guard !codes.contains(reply.code) else { return }
        throw .mailRejected(code: reply.code, message: "\(step): \(reply.text)")
    }

    /// `data` with a second dot before every line that starts with a dot (RFC 5321 §4.5.2), ending with CRLF.
    static func dotStuffed(_ data: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(data.count + data.count / 64 + 2)
        var atLineStart = true
        for byte in data {
            if atLineStart, byte == UInt8(ascii: ".") { output.append(byte) }
            output.append(byte)
            atLineStart = byte == 0x0A
        }
        if !output.isEmpty, output.last != 0x0A { output += [0x0D, 0x0A] }
        return output
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            #if canImport(Darwin)
                _ = memset_s(base, buffer.count, 0, buffer.count)
            #else
                explicit_bzero(base, buffer.count)
            #endif
        }
        bytes.removeAll()
    }
}

/// One SMTP reply: its code and the text of its lines.
struct SMTPReply: Sendable, Hashable {
    /// The three-digit code.
    var code: Int
    /// The text after the code on each line.
    var lines: [String]
    /// The lines' text, joined by spaces (at most 300 characters).
    var text: String { String(lines.joined(separator: " ").prefix(300)) }
}

/// A blocking TCP connection to an SMTP server, used on one thread only.
private final class SMTPConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let seconds: Int
    private let logger: Logger
    private let peer: String

    init(host: String, port: UInt16, timeout: Duration, logger: Logger) throws(RegistrationError) {
        self.logger = logger
        let components = timeout.components
        let milliseconds = max(1, Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000))
        seconds = max(1, milliseconds / 1000)
        peer = "\(host):\(port)"
        descriptor = try Self.connect(host: host, port: port, milliseconds: milliseconds)
    }

    deinit { close(descriptor) }

    // MARK: Connecting

    private static func connect(host: String, port: UInt16, milliseconds: Int) throws(RegistrationError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc) || canImport(Musl)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .mailServerUnreachable(
                "the host name \(host) could not be resolved (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(list) }
        var lastProblem = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else {
                lastProblem = String(cString: strerror(errno))
                continue
            }
            if let problem = connect(fd, to: info.pointee, milliseconds: milliseconds) {
                lastProblem = problem
                close(fd)
                continue
            }
            var time = timeval(tv_sec: .init(milliseconds / 1000), tv_usec: .init(milliseconds % 1000 * 1000))
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            #if canImport(Darwin)
                _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            return fd
        }
        throw .mailServerUnreachable("\(host) port \(port): \(lastProblem)")
    }

    /// Connects `fd` within `milliseconds`; nil when connected, else what went wrong.
    private static func connect(_ fd: Int32, to info: addrinfo, milliseconds: Int) -> String? {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        #if canImport(Darwin)
            let result = Darwin.connect(fd, info.ai_addr, info.ai_addrlen)
        #elseif canImport(Glibc)
            let result = Glibc.connect(fd, info.ai_addr, info.ai_addrlen)
        #else
            let result = Musl.connect(fd, info.ai_addr, info.ai_addrlen)
        #endif
        if result == 0 { return nil }
        guard errno == EINPROGRESS else { return String(cString: strerror(errno)) }
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var ready: Int32
        repeat { ready = poll(&descriptor, 1, Int32(milliseconds)) } while ready < 0 && errno == EINTR
        if ready == 0 { return "no connection within \(milliseconds / 1000) s" }
        if ready < 0 { return String(cString: strerror(errno)) }
        var problem: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &problem, &length)
        return problem == 0 ? nil : String(cString: strerror(problem))
    }

    // MARK: Writing and reading

    func write(_ bytes: [UInt8]) throws(RegistrationError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                #if canImport(Darwin)
                    return Darwin.send(descriptor, base + offset, buffer.count - offset, 0)
                #elseif canImport(Glibc)
                    return Glibc.send(descriptor, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                #else
                    return Musl.send(descriptor, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                #endif
            }
            if sent < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw .mailServerUnreachable("\(peer) took nothing for \(seconds) s")
                }
                throw .mailServerUnreachable("\(peer): \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }

    /// Sends one command line and reads its reply.
    func command(_ line: String) throws(RegistrationError) -> SMTPReply {
        logger.trace("SMTP C: \(line)")
        try write(Array((line + "\r\n").utf8))
        return try readReply()
    }

    /// Reads one reply, multi-line (`250-…` up to `250 …`) or not.
    func readReply() throws(RegistrationError) -> SMTPReply {
        var code: Int?
        var lines: [String] = []
        while true {
            let line = try readLine()
            logger.trace("SMTP S: \(line)")
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, bytes[0..<3].allSatisfy({ (0x30...0x39).contains($0) }),
                let lineCode = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(lineCode),
                bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-"),
                code == nil || code == lineCode
            else {
                throw .mailServerUnreachable("\(peer) answered \(String(line.prefix(80)).debugDescription), not SMTP")
            }
            code = lineCode
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") { break }
            if lines.count > 100 { throw .mailServerUnreachable("\(peer) sent a reply of more than 100 lines") }
        }
        return SMTPReply(code: code ?? 0, lines: lines)
    }

    private func readLine() throws(RegistrationError) -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var end = newline
                if end > 0, buffer[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            guard buffer.count < 4096 else { throw .mailServerUnreachable("\(peer) sent a line of over 4096 bytes") }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer += chunk[..<count]
            } else if count == 0 {
                throw .mailServerUnreachable("\(peer) closed the connection")
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw .mailServerUnreachable("\(peer) did not answer within \(seconds) s")
            } else {
                throw .mailServerUnreachable("\(peer): \(String(cString: strerror(errno)))")
            }
        }
    }
}
