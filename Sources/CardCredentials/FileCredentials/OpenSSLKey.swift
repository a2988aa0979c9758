import COpenSSL
import SwiftASN1
import X509

/// An OpenSSL `EVP_PKEY` owned by exactly one instance, freed in `deinit`. Never hands out its bytes.
final class OpenSSLKey: @unchecked Sendable {
    // Set once in init, never replaced; OpenSSL 3 keys are safe for concurrent signing with separate
    // EVP_MD_CTX objects, which `sign` creates per call.
    let pointer: OpaquePointer

    /// Takes ownership of `pointer`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// Reads an unencrypted private key: DER PKCS#8, PKCS#1 (RSA) or SEC 1 (EC).
    static func load(der bytes: [UInt8]) throws(CardCredentialsError) -> OpenSSLKey {
        let key: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_AutoPrivateKey_ex(nil, &cursor, buffer.count, OpenSSLContext.context, nil)
        }
        guard let key else {
            throw .malformedPrivateKey(OpenSSLContext.drainErrors())
        }
        return OpenSSLKey(owning: key)
    }

    /// Whether this is an RSA key.
    var isRSA: Bool { EVP_PKEY_get_base_id(pointer) == EVP_PKEY_RSA }
    /// Whether this is an EC key.
    var isEC: Bool { EVP_PKEY_get_base_id(pointer) == EVP_PKEY_EC }

    /// What the key signs with.
    var supportedAlgorithms: [SigningAlgorithm] {
        if isRSA { return SigningAlgorithm.rsaAlgorithms }
        if isEC { return [.ecdsaSHA256, .ecdsaSHA384] }
        return []
    }

    /// Hashes and signs `data` (RSA PKCS#1 v1.5 or ECDSA with a DER signature).
    func sign(_ data: [UInt8], digest: DigestAlgorithm) throws(CardCredentialsError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else {
            throw OpenSSLContext.failure("make a signing context")
        }
        defer { EVP_MD_CTX_free(context) }
        guard
            EVP_DigestSignInit_ex(
                context, nil, digest.openSSLName, OpenSSLContext.context, nil, pointer, nil) == 1
        else {
            throw OpenSSLContext.failure("start signing")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, data, data.count) == 1 else {
            throw OpenSSLContext.failure("size the signature")
        }
        var signature = [UInt8](repeating: 0, count: length)
        let status = signature.withUnsafeMutableBufferPointer { buffer in
            EVP_DigestSign(context, buffer.baseAddress, &length, data, data.count)
        }
        guard status == 1 else { throw OpenSSLContext.failure("sign") }
        return Array(signature.prefix(length))
    }

    /// Whether the key belongs to `certificate`.
    func matches(_ certificate: OpenSSLCertificate) -> Bool {
        let matches = X509_check_private_key(certificate.pointer, pointer) == 1
        ERR_clear_error()
        return matches
    }
}

/// An OpenSSL `X509` owned by exactly one instance, freed in `deinit`.
final class OpenSSLCertificate {
    let pointer: OpaquePointer

    /// Takes ownership of `pointer`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// Converts a swift-certificates certificate.
    convenience init(_ certificate: Certificate) throws(CardCredentialsError) {
        var serializer = DER.Serializer()
        do {
            try serializer.serialize(certificate)
        } catch {
            throw .malformedCertificate("\(error)")
        }
        let der = serializer.serializedBytes
        let x509: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let x509 else { throw .malformedCertificate(OpenSSLContext.drainErrors()) }
        self.init(owning: x509)
    }

    deinit {
        X509_free(pointer)
    }

    /// The certificate as swift-certificates reads it.
    func certificate() throws(CardCredentialsError) -> Certificate {
        try Self.certificate(from: pointer)
    }

    /// Reads a borrowed `X509` pointer into a swift-certificates certificate.
    static func certificate(from pointer: OpaquePointer) throws(CardCredentialsError) -> Certificate {
        let length = i2d_X509(pointer, nil)
        guard length > 0 else { throw OpenSSLContext.failure("encode a certificate") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_X509(pointer, &cursor)
        }
        guard written == length else { throw OpenSSLContext.failure("encode a certificate") }
        do {
            return try Certificate(untrustedDER: der)
        } catch {
            throw .malformedCertificate("\(error)")
        }
    }
}
