internal import COpenSSL
import Foundation
public import X509
import _CryptoExtras

/// An RSA private key as a simulated card holds it: generated and used through OpenSSL (fast even in debug
/// builds), with the raw PKCS#1 v1.5 signing operation cards perform over a DigestInfo.
///
/// ```swift
/// let key = try CardRSAKey.generate()
/// let signature = try key.signPKCS1(digestInfo: digestInfo)  // 256 bytes for RSA-2048
/// ```
public final class CardRSAKey: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is never mutated after creation; each operation makes its own EVP_PKEY_CTX,
    // which OpenSSL 3 allows from several threads at once.
    private let pkey: OpaquePointer

    /// The private key in PEM, PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    public let pemRepresentation: String

    private init(pkey: OpaquePointer) throws(CardSimulatorError) {
        self.pkey = pkey
        do {
            self.pemRepresentation = try Self.privatePEM(of: pkey)
        } catch {
            EVP_PKEY_free(pkey)
            throw error
        }
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Generates a fresh RSA key with public exponent 65537.
    ///
    /// - Parameter bits: The modulus size; cards use 2048.
    public static func generate(bits: Int = 2048) throws(CardSimulatorError) -> CardRSAKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw .cryptographyFailed(operation: "EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1 else {
            throw .cryptographyFailed(operation: "EVP_PKEY_keygen_init")
        }
        var pkey: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            throw .cryptographyFailed(operation: "EVP_PKEY_generate")
        }
        return try CardRSAKey(pkey: pkey)
    }

    /// Reads an RSA private key from PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`, unencrypted).
    public convenience init(pemRepresentation pem: String) throws(CardSimulatorError) {
        let bytes = Array(pem.utf8)
        let pkey: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let pkey else { throw .malformedKey("the PEM text holds no readable private key") }
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA else {
            EVP_PKEY_free(pkey)
            throw .malformedKey("the key is not an RSA key")
        }
        try self.init(pkey: pkey)
    }

    /// The modulus size in bits (2048 for JPKI cards).
    public var bitCount: Int { Int(EVP_PKEY_get_bits(pkey)) }

    /// The public key as DER SubjectPublicKeyInfo.
    public var publicKeyDER: [UInt8] {
        var pointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(pkey, &pointer)
        guard length > 0, let pointer else { return [] }
        defer { CRYPTO_free(pointer, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(length)))
    }

    /// The public key as swift-certificates sees it, for issuing a certificate.
    public func certificatePublicKey() throws(CardSimulatorError) -> Certificate.PublicKey {
        do {
            return Certificate.PublicKey(try _RSA.Signing.PublicKey(derRepresentation: publicKeyDER))
        } catch {
            throw .malformedKey("the public key could not be converted: \(error)")
        }
    }

    /// The private key as swift-certificates sees it, for signing certificates and CRLs.
    public func certificatePrivateKey() throws(CardSimulatorError) -> Certificate.PrivateKey {
        do {
            return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(pemRepresentation: pemRepresentation))
        } catch {
            throw .malformedKey("the private key could not be converted: \(error)")
        }
    }

    /// The card's signing operation: PKCS#1 v1.5 type-1 padding applied to the given bytes (a DER DigestInfo),
    /// then the RSA private-key operation. The card hashes nothing itself.
    ///
    /// - Parameter digestInfo: At most `bitCount / 8 - 11` bytes (245 for RSA-2048).
    /// - Returns: The signature, `bitCount / 8` bytes long.
    public func signPKCS1(digestInfo: [UInt8]) throws(CardSimulatorError) -> [UInt8] {
        let size = bitCount / 8
        guard !digestInfo.isEmpty, digestInfo.count <= size - 11 else {
            throw .invalidParameter("a DigestInfo of \(digestInfo.count) bytes does not fit a \(bitCount)-bit key")
        }
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else {
            throw .cryptographyFailed(operation: "EVP_PKEY_CTX_new")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_sign_init(ctx) == 1, EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 else {
            throw .cryptographyFailed(operation: "EVP_PKEY_sign_init")
        }
        var signature = [UInt8](repeating: 0, count: size)
        var length = size
        let status = digestInfo.withUnsafeBufferPointer { input in
            EVP_PKEY_sign(ctx, &signature, &length, input.baseAddress, input.count)
        }
        guard status == 1 else { throw .cryptographyFailed(operation: "EVP_PKEY_sign") }
        return Array(signature.prefix(length))
    }

    private static func privatePEM(of pkey: OpaquePointer) throws(CardSimulatorError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw .cryptographyFailed(operation: "BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else {
            throw .cryptographyFailed(operation: "PEM_write_bio_PrivateKey")
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            out.append(contentsOf: chunk.prefix(Int(n)))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
