import COpenSSL
import X509

/// How a PKCS#12 file made by ``FileCredential/pkcs12(password:encryption:friendlyName:)`` is encrypted.
public enum PKCS12Encryption: Sendable, Hashable {
    /// PBES2 with AES-256-CBC and PBKDF2 for the key and the certificates, HMAC-SHA-256 integrity: what
    /// OpenSSL 3 makes by default. Use this unless old software must read the file.
    case aes256
    /// `PBE-SHA1-3DES` for the key, `PBE-SHA1-RC2-40` for the certificates, HMAC-SHA-1 integrity: the format of
    /// older CA-issued files (`openssl pkcs12 -export -legacy`), for software that reads nothing else.
    case legacy
}

extension FileCredential {
    /// The parts read from a PKCS#12 file.
    struct ParsedPKCS12 {
        let key: OpenSSLKey
        let certificate: Certificate
        let chain: [Certificate]
    }

    static func parsePKCS12(_ bytes: [UInt8], password: SecretPIN) throws(CardCredentialsError)
        -> ParsedPKCS12
    {
        guard !bytes.isEmpty else { throw .malformedPKCS12("the file is empty") }
        // A PKCS12 object made in our library context, so decryption finds the legacy provider's RC2.
        var made = PKCS12_init_ex(NID_pkcs7_data, OpenSSLContext.context, nil)
        var consumed = 0
        let decoded: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            let result = d2i_PKCS12(&made, &cursor, buffer.count)
            consumed = cursor.map { base.distance(to: $0) } ?? 0
            return result
        }
        guard let p12 = decoded else {
            // On failure OpenSSL has already freed the object it was decoding into.
            throw .malformedPKCS12(
                "the bytes are not DER PKCS#12 or are truncated (\(OpenSSLContext.drainErrors()))")
        }
        defer { PKCS12_free(p12) }
        guard consumed == bytes.count else {
            throw .malformedPKCS12("\(bytes.count - consumed) bytes follow the PKCS#12 structure")
        }

        var privateKey: OpaquePointer?
        var x509: OpaquePointer?
        var others: OpaquePointer?
        enum Outcome { case parsed, macFailed, parseFailed }
        let outcome: Outcome = withWipedCString(password) { pass, length in
            if PKCS12_mac_present(p12) == 1, PKCS12_verify_mac(p12, pass, length) != 1 {
                return .macFailed
            }
            return PKCS12_parse(p12, pass, &privateKey, &x509, &others) == 1 ? .parsed : .parseFailed
        }
        defer {
            if let others {
                OPENSSL_sk_pop_free(others) { X509_free(OpaquePointer($0)) }
            }
        }
        let certificateOwner = x509.map(OpenSSLCertificate.init(owning:))
        let keyOwner = privateKey.map(OpenSSLKey.init(owning:))
        switch outcome {
        case .parsed:
            break
        case .macFailed:
            ERR_clear_error()
            throw .wrongPassword
        case .parseFailed:
            var reason = OpenSSLContext.drainErrors()
            if !OpenSSLContext.legacyProviderAvailable {
                reason += "; OpenSSL's legacy provider (legacy.so, needed for RC2-40) was not found"
            }
            throw .openSSLFailure(operation: "decrypt the PKCS#12 file", reason: reason)
        }
        guard let keyOwner else { throw .malformedPKCS12("the file holds no private key") }
        guard let certificateOwner else {
            throw .malformedPKCS12("the file holds no certificate for its key")
        }
        guard keyOwner.matches(certificateOwner) else { throw .keyDoesNotMatchCertificate }
        guard !keyOwner.supportedAlgorithms.isEmpty else {
            throw .malformedPKCS12("only RSA and EC keys are supported")
        }

        var chain: [Certificate] = []
        if let others {
            for index in 0..<OPENSSL_sk_num(others) {
                guard let raw = OPENSSL_sk_value(others, index) else { continue }
                chain.append(try OpenSSLCertificate.certificate(from: OpaquePointer(raw)))
            }
        }
        return ParsedPKCS12(
            key: keyOwner, certificate: try certificateOwner.certificate(), chain: chain)
    }

    /// Writes the credential as a new password-protected PKCS#12 file (for example a one-year certificate kept
    /// as a file credential).
    ///
    /// The password is copied only into a buffer that is wiped right after use.
    ///
    /// - Parameters:
    ///   - password: The new file's password.
    ///   - encryption: ``PKCS12Encryption/aes256`` (default) or ``PKCS12Encryption/legacy``.
    ///   - friendlyName: The name shown by key stores when importing the file, if any.
    /// - Returns: The file's DER bytes (.p12).
    /// - Throws: ``CardCredentialsError/openSSLFailure(operation:reason:)``.
    public func pkcs12(
        password: SecretPIN, encryption: PKCS12Encryption = .aes256, friendlyName: String? = nil
    ) throws(CardCredentialsError) -> [UInt8] {
        let leaf = try OpenSSLCertificate(certificate)
        let issuers = try chain.map { (certificate) throws(CardCredentialsError) in
            try OpenSSLCertificate(certificate)
        }
        guard let stack = OPENSSL_sk_new_null() else {
            throw OpenSSLContext.failure("make a certificate list")
        }
        defer { OPENSSL_sk_free(stack) }  // The stack borrows the certificates; their owners free them.
        for issuer in issuers where OPENSSL_sk_push(stack, UnsafeRawPointer(issuer.pointer)) <= 0 {
            throw OpenSSLContext.failure("make a certificate list")
        }

        let keyNID: Int32
        let certificateNID: Int32
        switch encryption {
        case .aes256:
            keyNID = NID_aes_256_cbc
            certificateNID = NID_aes_256_cbc
        case .legacy:
            keyNID = NID_pbe_WithSHA1And3_Key_TripleDES_CBC
            certificateNID = NID_pbe_WithSHA1And40BitRC2_CBC
        }
        let iterations: Int32 = 2048

        let made: OpaquePointer? = withWipedCString(password) { pass, length in
            // -1: no MAC yet; it is added below with the digest we choose.
            guard
                let p12 = PKCS12_create_ex(
                    pass, friendlyName, key.pointer, leaf.pointer, stack, keyNID, certificateNID,
                    iterations, -1, 0, OpenSSLContext.context, nil)
            else { return nil }
            let digest = encryption == .aes256 ? EVP_sha256() : EVP_sha1()
            guard PKCS12_set_mac(p12, pass, length, nil, 0, iterations, digest) == 1 else {
                PKCS12_free(p12)
                return nil
            }
            return p12
        }
        guard let p12 = made else { throw OpenSSLContext.failure("make the PKCS#12 file") }
        defer { PKCS12_free(p12) }

        let length = i2d_PKCS12(p12, nil)
        guard length > 0 else { throw OpenSSLContext.failure("encode the PKCS#12 file") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_PKCS12(p12, &cursor)
        }
        guard written == length else { throw OpenSSLContext.failure("encode the PKCS#12 file") }
        return der
    }
}
