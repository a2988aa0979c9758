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

/// How ``SMTPMailTransport`` protects the connection, and so the password and the mail, from the network.
public enum SMTPSecurity: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Connect in clear, then upgrade with `STARTTLS` (RFC 3207) before anything else is sent: the submission
    /// port 587, or port 25. A server that does not offer `STARTTLS` is refused; there is no silent fallback to
    /// clear text.
    case startTLS
    /// TLS from the first byte (RFC 8314 "implicit TLS"): the submission port 465.
    case implicitTLS
    /// No TLS at all: for a relay on the loopback interface or a trusted LAN only. Credentials are refused over
    /// it unless ``SMTPMailTransport/allowPlaintextAuthentication`` says otherwise.
    case plain

    /// `STARTTLS`, `implicit TLS` or `plain`.
    public var description: String {
        switch self {
        case .startTLS: "STARTTLS"
        case .implicitTLS: "implicit TLS"
        case .plain: "plain"
        }
    }
}

/// A small SMTP client (RFC 5321) that hands each mail to a relay or a submission server: one connection per
/// mail, TLS (``SMTPSecurity``), `EHLO` (or `HELO` on a plain connection whose server refuses `EHLO`), optional
/// `AUTH PLAIN`, `MAIL FROM`, one `RCPT TO` per recipient, `DATA` with dot-stuffing, `QUIT`.
///
/// ## Transport security
///
/// By default (``SMTPSecurity/startTLS``) the client sends `EHLO`, then `STARTTLS`, completes a TLS handshake
/// and sends `EHLO` again before anything else; ``SMTPSecurity/implicitTLS`` speaks TLS from the first byte
/// (port 465). TLS is OpenSSL's, version 1.2 or newer. The server's certificate must chain to the system's trust
/// store, or to the CAs in ``trustedCAFile``, and must name ``host`` (a DNS name, or an IP address when ``host``
/// is one); the name also goes out as SNI.
///
/// The password never crosses the network in clear:
/// - a server that does not offer `STARTTLS` when ``security`` asks for it is refused before any credential or
///   mail is sent (a network attacker can strip the offer; the client does not fall back to clear text);
/// - over ``SMTPSecurity/plain``, credentials are refused before the connection is even made, unless
///   ``allowPlaintextAuthentication`` is set for a relay on a trusted network.
///
/// These refusals, and a certificate that does not verify (its reason in OpenSSL's words, such as "hostname
/// mismatch" or "unable to get local issuer certificate"), are ``RegistrationError/mailServerUnreachable(_:)``:
/// retryable, like a server that cannot be reached. The mail stays in the outbox, ``OutboxDispatcher`` stops its
/// run at the first one (so one bad server costs one try, not one per queued mail) and marks the message failed
/// after ``OutboxDispatcher/maxAttempts`` tries. A certificate can be renewed and a relay reconfigured without
/// losing mail; nothing is ever sent to an unverified server meanwhile.
///
/// ## Errors
///
/// Replies map to errors as the outbox needs them: a 4xx reply is
/// ``RegistrationError/mailRejected(code:message:)`` that is retried, a 5xx reply the same error for good, and a
/// refused, broken, silent (past ``timeout``) or untrusted connection
/// ``RegistrationError/mailServerUnreachable(_:)``. When one recipient of several is refused, the whole mail is
/// abandoned (nothing is sent) so that a retry does not deliver twice to the others. No error carries the
/// password.
///
/// The socket I/O blocks, so each ``send(_:)`` runs the conversation on a thread of its own, never on Swift's
/// cooperative pool.
///
/// ```swift
/// let password = try SecretPIN(wiping: &typed, policy: .password())
/// let transport = SMTPMailTransport(
///     host: "smtp.example.go.jp", port: 587, heloName: "portal.example.go.jp",
///     credentials: SMTPCredentials(username: "portal", password: password))
/// try await transport.send(mail)
/// ```
public struct SMTPMailTransport: MailTransport {
    /// The server's host name or address; the server's certificate must name it.
    public var host: String
    /// The server's TCP port: 587 (submission with STARTTLS), 465 (implicit TLS) or 25.
    public var port: UInt16
    /// The name this client gives in `EHLO`/`HELO` (its own host name).
    public var heloName: String
    /// Credentials for `AUTH PLAIN`, or nil to send without authentication.
    public var credentials: SMTPCredentials?
    /// How long to wait for the connection, for each reply and for each write (TLS handshake included).
    public var timeout: Duration
    /// How the connection is protected; ``SMTPSecurity/startTLS`` unless told otherwise.
    public var security: SMTPSecurity
    /// A PEM file of the certificate authorities to trust for the server's certificate, in place of the system's
    /// trust store (a private CA); nil for the system's.
    public var trustedCAFile: String?
    /// Whether ``credentials`` may be sent over a connection without TLS (``SMTPSecurity/plain``); false unless
    /// the relay is on a network the operator trusts.
    public var allowPlaintextAuthentication: Bool

    private let logger = Logger(label: "ProcurementIdentity.SMTP")

    /// A client of the server at `host`:`port`.
    ///
    /// - Parameters:
    ///   - host: The server's host name or address.
    ///   - port: The server's TCP port.
    ///   - heloName: This host's name, for `EHLO`.
    ///   - credentials: Credentials for `AUTH PLAIN`, or nil.
    ///   - timeout: The limit for the connection, each reply and each write.
    ///   - security: STARTTLS (the default), implicit TLS, or plain (explicitly).
    ///   - trustedCAFile: A PEM file of CAs to trust instead of the system's trust store.
    ///   - allowPlaintextAuthentication: Whether credentials may go over a plain connection.
    public init(
        host: String = "127.0.0.1", port: UInt16 = 25, heloName: String, credentials: SMTPCredentials? = nil,
        timeout: Duration = .seconds(30), security: SMTPSecurity = .startTLS, trustedCAFile: String? = nil,
        allowPlaintextAuthentication: Bool = false
    ) {
        self.host = host
        self.port = port
        self.heloName = heloName
        self.credentials = credentials
        self.timeout = timeout
        self.security = security
        self.trustedCAFile = trustedCAFile
        self.allowPlaintextAuthentication = allowPlaintextAuthentication
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
        if security == .plain, credentials != nil, !allowPlaintextAuthentication {
            throw Self.plaintextAuthenticationRefused(peer: "\(host):\(port)")
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
        Self.blockSIGPIPEOnThisThread()
        let connection = try SMTPConnection(host: host, port: port, timeout: timeout, logger: logger)
        if security == .implicitTLS { try connection.startTLS(verifying: host, trustedCAFile: trustedCAFile) }
        let greeting = try connection.readReply()
        try expect(greeting, 220, during: "the greeting")

        let ehlo = try connection.command("EHLO \(heloName)")
        let extended = ehlo.code / 100 != 5
        if extended {
            try expect(ehlo, 250, during: "EHLO")
        }
        if security == .startTLS {
            guard extended, ehlo.offers("STARTTLS") else {
                _ = try? connection.command("QUIT")
                throw .mailServerUnreachable(
                    "\(connection.peer) does not offer STARTTLS, so the connection cannot be encrypted; nothing was "
                        + "sent (a relay without TLS must be chosen explicitly as plain)")
            }
            try expect(try connection.command("STARTTLS"), 220, during: "STARTTLS")
            try connection.startTLS(verifying: host, trustedCAFile: trustedCAFile)
            // RFC 3207 §4.2: forget what the server said in clear, and ask again over TLS.
            try expect(try connection.command("EHLO \(heloName)"), 250, during: "EHLO after STARTTLS")
        } else if !extended {
            try expect(try connection.command("HELO \(heloName)"), 250, during: "HELO")
        }

        if let credentials {
            guard connection.isEncrypted || allowPlaintextAuthentication else {
                _ = try? connection.command("QUIT")
                throw Self.plaintextAuthenticationRefused(peer: connection.peer)
            }
            try authenticate(credentials, on: connection)
        }

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

    /// The refusal to send credentials over a connection without TLS; nothing was sent.
    private static func plaintextAuthenticationRefused(peer: String) -> RegistrationError {
        .mailServerUnreachable(
            "the SMTP password would cross the connection to \(peer) without TLS, so nothing was sent; use STARTTLS "
                + "or implicit TLS, or allow plaintext authentication explicitly for a relay on a trusted network")
    }

    /// A write to a socket the peer closed raises SIGPIPE, which would end the process: OpenSSL writes without
    /// `MSG_NOSIGNAL`. The conversation runs on a thread of its own, which blocks the signal (the write then fails
    /// with `EPIPE`); a signal left pending goes away with the thread. Darwin sockets have `SO_NOSIGPIPE` instead.
    private static func blockSIGPIPEOnThisThread() {
        #if !canImport(Darwin)
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &signals, nil)
        #endif
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

    /// Whether an `EHLO` reply lists `keyword` (an extension such as `STARTTLS`) on one of its lines after the
    /// first.
    func offers(_ keyword: String) -> Bool {
        lines.dropFirst().contains { line in
            line.split(separator: " ", maxSplits: 1).first.map { $0.uppercased() == keyword.uppercased() } ?? false
        }
    }
}

/// A blocking TCP connection to an SMTP server, in clear or over TLS, used on one thread only.
private final class SMTPConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let seconds: Int
    private let logger: Logger
    /// `host:port`, for messages.
    let peer: String
    private var tls: SMTPTLSSession?

    init(host: String, port: UInt16, timeout: Duration, logger: Logger) throws(RegistrationError) {
        self.logger = logger
        let components = timeout.components
        let milliseconds = max(1, Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000))
        seconds = max(1, milliseconds / 1000)
        peer = "\(host):\(port)"
        descriptor = try Self.connect(host: host, port: port, milliseconds: milliseconds)
    }

    deinit {
        tls?.shutdown()
        close(descriptor)
    }

    /// Whether the connection is encrypted (TLS).
    var isEncrypted: Bool { tls != nil }

    /// Starts TLS on the connection: at once for implicit TLS, or after the server's 220 to `STARTTLS`.
    ///
    /// - Throws: ``RegistrationError/mailServerUnreachable(_:)`` when the handshake fails or the certificate does
    ///   not verify, or when the server sent more after its 220 (text injected in clear before the handshake,
    ///   which must not be read as if it came over TLS).
    func startTLS(verifying host: String, trustedCAFile: String?) throws(RegistrationError) {
        guard buffer.isEmpty else {
            throw .mailServerUnreachable("\(peer) sent data in clear after agreeing to start TLS; nothing was sent")
        }
        let session = try SMTPTLSSession(
            descriptor: descriptor, host: host, trustedCAFile: trustedCAFile, peer: peer, seconds: seconds)
        logger.debug("SMTP: TLS with \(peer): \(session.summary)")
        tls = session
    }

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
        if let tls { return try tls.write(bytes) }
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
            if let tls {
                // withUnsafeMutableBytes rethrows untyped: carry the typed error out in a Result.
                let read = chunk.withUnsafeMutableBytes { raw in
                    Result { () throws(RegistrationError) in try tls.read(into: raw) }
                }
                let count = try read.get()
                buffer += chunk[..<count]
                continue
            }
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
