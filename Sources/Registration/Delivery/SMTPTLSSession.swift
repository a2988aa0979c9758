import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// A TLS client session (OpenSSL) over a connected, blocking socket, used on one thread only.
///
/// TLS 1.2 or newer; the server's certificate must chain to the system's trust store (or to the CAs of a given
/// PEM file) and name the host that was asked for (`SSL_set1_host`: a DNS name, or an IP address for an address
/// literal); the host name goes out as SNI unless it is an address. The socket keeps its `SO_RCVTIMEO` and
/// `SO_SNDTIMEO`, so a silent peer ends a handshake, a read or a write as it does without TLS.
final class SMTPTLSSession {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let peer: String
    private let seconds: Int

    /// Makes the session and completes the handshake over `descriptor`.
    ///
    /// - Parameters:
    ///   - descriptor: A connected TCP socket with read and write timeouts.
    ///   - host: The name (or address) the server's certificate must carry.
    ///   - trustedCAFile: A PEM file of the CAs to trust instead of the system's trust store.
    ///   - peer: `host:port`, for messages.
    ///   - seconds: The timeout, for messages.
    /// - Throws: ``RegistrationError/mailServerUnreachable(_:)`` when the handshake fails; when the certificate did
    ///   not verify, the reason says why in OpenSSL's words.
    init(descriptor: Int32, host: String, trustedCAFile: String?, peer: String, seconds: Int)
        throws(RegistrationError)
    {
        self.peer = peer
        self.seconds = seconds
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw .mailServerUnreachable("no TLS context could be made (\(Self.drainErrors()))")
        }
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            SSL_CTX_free(context)
            throw .mailServerUnreachable("TLS 1.2 could not be set as the lowest version (\(Self.drainErrors()))")
        }
        if let trustedCAFile {
            guard SSL_CTX_load_verify_locations(context, trustedCAFile, nil) == 1 else {
                SSL_CTX_free(context)
                throw .mailServerUnreachable(
                    "the trusted CA file \(trustedCAFile) could not be read as PEM certificates "
                        + "(\(Self.drainErrors()))")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            SSL_CTX_free(context)
            throw .mailServerUnreachable("the system's trust store could not be loaded (\(Self.drainErrors()))")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw .mailServerUnreachable("no TLS session could be made (\(Self.drainErrors()))")
        }
        self.context = context
        self.ssl = ssl
        // From here on deinit frees both.
        guard SSL_set1_host(ssl, host) == 1 else {
            throw .mailServerUnreachable("\(host) cannot be checked against a certificate (\(Self.drainErrors()))")
        }
        if !Self.isAddressLiteral(host) {
            // SSL_set_tlsext_host_name is a macro Swift cannot call.
            let named = host.withCString { name in
                let pointer = UnsafeMutableRawPointer(mutating: name)
                return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), pointer)
            }
            guard named == 1 else {
                throw .mailServerUnreachable("\(host) cannot be sent as the TLS server name (\(Self.drainErrors()))")
            }
        }
        guard SSL_set_fd(ssl, descriptor) == 1 else {
            throw .mailServerUnreachable("TLS could not use the connection (\(Self.drainErrors()))")
        }
        let result = SSL_connect(ssl)
        let failure = result == 1 ? nil : failure(result, during: "the TLS handshake")
        let verification = SSL_get_verify_result(ssl)
        if verification != Int(X509_V_OK) {
            ERR_clear_error()
            let why = String(cString: X509_verify_cert_error_string(verification))
            throw .mailServerUnreachable(
                "the certificate of \(peer) did not verify (\(why)), so nothing was sent; check the server's "
                    + "certificate, or trust the CA that issued it")
        }
        if let failure { throw failure }
        guard SSL_get0_peer_certificate(ssl) != nil else {
            throw .mailServerUnreachable("\(peer) presented no certificate in the TLS handshake; nothing was sent")
        }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// The protocol version and cipher, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`.
    var summary: String {
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? "TLS"
        let cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)).map { String(cString: $0) } ?? ""
        return "\(version) \(cipher)"
    }

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws(RegistrationError) {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let written = bytes.withUnsafeBytes { buffer -> Int32 in
                guard let base = buffer.baseAddress else { return 0 }
                return SSL_write(ssl, base + offset, Int32(clamping: buffer.count - offset))
            }
            guard written > 0 else { throw failure(written, during: "writing") }
            offset += Int(written)
        }
    }

    /// Reads what is there (at least one byte) into `buffer`; the count read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(RegistrationError) -> Int {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        guard count > 0 else { throw failure(count, during: "reading") }
        return Int(count)
    }

    /// Sends TLS close_notify, without waiting for the server's.
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The error for a call that returned `result`, in words.
    private func failure(_ result: Int32, during step: String) -> RegistrationError {
        let problem = errno
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            // A blocking socket wants more only when its SO_RCVTIMEO or SO_SNDTIMEO ran out.
            ERR_clear_error()
            return .mailServerUnreachable("\(peer) did not answer within \(seconds) s (\(step))")
        case SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return .mailServerUnreachable("\(peer) closed the TLS connection (\(step))")
        case SSL_ERROR_SYSCALL:
            let queued = Self.drainErrors()
            if problem == EAGAIN || problem == EWOULDBLOCK {
                return .mailServerUnreachable("\(peer) did not answer within \(seconds) s (\(step))")
            }
            if problem == 0 { return .mailServerUnreachable("\(peer) closed the connection (\(step))") }
            return .mailServerUnreachable(
                "\(peer): \(String(cString: strerror(problem))) (\(step)\(queued == "" ? "" : "; \(queued)"))")
        default:
            return .mailServerUnreachable("\(step) with \(peer) failed (\(Self.drainErrors()))")
        }
    }

    /// Whether `host` is an IPv4 or IPv6 address rather than a name (no SNI for an address, RFC 6066 §3).
    private static func isAddressLiteral(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
    }

    /// OpenSSL's error queue for this thread as one line, emptied; empty when there was nothing.
    private static func drainErrors() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(
                buffer.withUnsafeBufferPointer { pointer in
                    String(decoding: pointer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                })
        }
        return reasons.joined(separator: "; ")
    }
}
