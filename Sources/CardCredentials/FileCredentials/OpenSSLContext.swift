import COpenSSL

/// The OpenSSL 3 library context this module uses for PKCS#12 and file keys.
///
/// OpenSSL 3 moved RC2 and the other algorithms of older PKCS#12 files (`PBE-SHA1-RC2-40`) into the "legacy"
/// provider, which is not loaded by default. This context loads "legacy" and "default" once (a Swift `static let`
/// is initialised exactly once, thread-safely), so the rest of the process keeps OpenSSL's own default context.
enum OpenSSLContext {
    /// The loaded library context and providers; they live as long as the process.
    private final class Loaded: @unchecked Sendable {
        // Written once in init and never changed; OpenSSL library contexts are safe to share between threads.
        let context: OpaquePointer?
        let legacyLoaded: Bool

        init() {
            let context = OSSL_LIB_CTX_new()
            self.context = context
            self.legacyLoaded = OSSL_PROVIDER_load(context, "legacy") != nil
            _ = OSSL_PROVIDER_load(context, "default")
            ERR_clear_error()
        }
    }

    private static let loaded = Loaded()

    /// The library context with the "legacy" and "default" providers.
    static var context: OpaquePointer? { loaded.context }

    /// Whether the "legacy" provider (legacy.so) was found; without it RC2-40 files cannot be read.
    static var legacyProviderAvailable: Bool { loaded.legacyLoaded }

    /// OpenSSL's error queue for this thread as one line, emptied; "no detail" when it is empty.
    static func drainErrors() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { pointer in
                String(decoding: pointer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            reasons.append(text)
        }
        return reasons.isEmpty ? "no detail" : reasons.joined(separator: "; ")
    }

    /// A ``CardCredentialsError/openSSLFailure(operation:reason:)`` with the drained error queue.
    static func failure(_ operation: String) -> CardCredentialsError {
        .openSSLFailure(operation: operation, reason: drainErrors())
    }
}

/// A copy of a secret (a password) as a NUL-terminated C string that exists only for the call and is wiped with
/// `OPENSSL_cleanse` afterwards.
func withWipedCString<Result>(
    _ secret: SecretPIN, _ body: (UnsafePointer<CChar>, Int32) throws -> Result
) rethrows -> Result {
    let count = secret.count
    let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: count + 1)
    defer {
        OPENSSL_cleanse(buffer.baseAddress, count + 1)
        buffer.deallocate()
    }
    buffer.initialize(repeating: 0)
    secret.withUnsafeBytes { bytes in
        for index in 0..<count { buffer[index] = CChar(bitPattern: bytes[index]) }
    }
    // The buffer was allocated just above, so its base address is never nil.
    guard let base = buffer.baseAddress else { return try body("", 0) }
    return try body(UnsafePointer(base), Int32(count))
}
