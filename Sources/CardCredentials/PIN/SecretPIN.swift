#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A PIN or password held in memory it owns, checked against its ``PINPolicy`` when made, wiped when it goes
/// away, and never shown.
///
/// - Its bytes live in one buffer the instance allocates; `deinit` overwrites them with zeros before freeing.
/// - Read them only inside ``withUnsafeBytes(_:)``; no property hands out a `String` or `[UInt8]` copy.
/// - `description`, `debugDescription`, string interpolation, `dump` and `Mirror` all show `<redacted>`.
///
/// ```swift
/// let pin = try SecretPIN(typedText, policy: .jpkiAuthentication)
/// try await PINVerifier(channel: channel, policy: .jpkiAuthentication).verify(pin)
/// ```
///
/// The text a person typed is the caller's `String`, which this type cannot wipe: keep it short-lived, or pass
/// the bytes with ``init(wiping:policy:)``, which wipes the caller's array.
public final class SecretPIN: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    // Written once in init, read-only afterwards, wiped in deinit: safe to share between tasks.
    private let storage: UnsafeMutableBufferPointer<UInt8>
    /// The policy the PIN was checked against when it was made.
    public let policy: PINPolicy

    /// Makes a PIN from what a person typed, checking it against `policy` first.
    ///
    /// Where the policy says so (``PINPolicy/jpkiSigning``), `a`–`z` become `A`–`Z`. Every other character
    /// outside the policy's set — symbols, spaces, full-width (全角) characters — is refused.
    ///
    /// - Throws: ``CardCredentialsError/pinFormat(_:)`` naming the broken rule (never the characters).
    public init(_ text: String, policy: PINPolicy) throws(CardCredentialsError) {
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            guard Self.normalized(scalar.value, policy: policy) != nil else {
                throw .pinFormat(
                    .disallowedCharacter(
                        policy: policy.name, position: count, allowed: policy.allowedCharacters.name))
            }
        }
        try Self.checkLength(count, policy: policy)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: count)
        var index = 0
        for scalar in text.unicodeScalars {
            // Checked above: every scalar normalises to an allowed byte.
            buffer[index] = Self.normalized(scalar.value, policy: policy) ?? 0
            index += 1
        }
        self.storage = buffer
        self.policy = policy
    }

    /// Makes a PIN from bytes (ASCII), checking them against `policy`, and wipes `bytes` whether or not the
    /// check passes.
    ///
    /// - Throws: ``CardCredentialsError/pinFormat(_:)``.
    public init(wiping bytes: inout [UInt8], policy: PINPolicy) throws(CardCredentialsError) {
        defer { Self.wipe(&bytes) }
        for (offset, byte) in bytes.enumerated() where Self.normalized(UInt32(byte), policy: policy) == nil {
            throw .pinFormat(
                .disallowedCharacter(
                    policy: policy.name, position: offset + 1, allowed: policy.allowedCharacters.name))
        }
        try Self.checkLength(bytes.count, policy: policy)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        for (offset, byte) in bytes.enumerated() {
            buffer[offset] = Self.normalized(UInt32(byte), policy: policy) ?? 0
        }
        self.storage = buffer
        self.policy = policy
    }

    deinit {
        Self.wipe(UnsafeMutableRawBufferPointer(storage))
        storage.deallocate()
    }

    /// The number of characters (bytes) in the PIN.
    public var count: Int { storage.count }

    /// Lends the PIN's bytes (ASCII, after the policy's normalisation) to `body`.
    ///
    /// Do not let the bytes escape `body`; a copy you make is yours to wipe.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Checks the PIN against another policy (for example the one a card expects) without changing it.
    ///
    /// - Throws: ``CardCredentialsError/pinFormat(_:)`` when the bytes do not have that policy's form.
    public func check(against other: PINPolicy) throws(CardCredentialsError) {
        for (offset, byte) in storage.enumerated() where !other.allowedCharacters.contains(byte) {
            throw .pinFormat(
                .disallowedCharacter(policy: other.name, position: offset + 1, allowed: other.allowedCharacters.name))
        }
        try Self.checkLength(storage.count, policy: other)
    }

    /// Compares two PINs in time that depends only on their lengths (for “enter the new PIN twice”).
    public func isEqual(to other: SecretPIN) -> Bool {
        guard storage.count == other.storage.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<storage.count { difference |= storage[i] ^ other.storage[i] }
        return difference == 0
    }

    /// Always `<redacted>`.
    public var description: String { "<redacted>" }
    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }
    /// A mirror with no children, so `dump` and debuggers show nothing of the PIN.
    public var customMirror: Mirror {
        Mirror(self, children: ["value": "<redacted>"], displayStyle: .class)
    }

    // MARK: - Helpers

    private static func normalized(_ value: UInt32, policy: PINPolicy) -> UInt8? {
        guard value < 0x80 else { return nil }
        var byte = UInt8(value)
        if policy.uppercasesInput, (0x61...0x7A).contains(byte) { byte -= 0x20 }
        return policy.allowedCharacters.contains(byte) ? byte : nil
    }

    private static func checkLength(_ count: Int, policy: PINPolicy) throws(CardCredentialsError) {
        if count == 0 { throw .pinFormat(.empty(policy: policy.name)) }
        if count < policy.length.lowerBound {
            throw .pinFormat(.tooShort(policy: policy.name, minimum: policy.length.lowerBound))
        }
        if count > policy.length.upperBound {
            throw .pinFormat(.tooLong(policy: policy.name, maximum: policy.length.upperBound))
        }
    }

    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { wipe($0) }
        bytes.removeAll()
    }

    /// Zeros memory with the C library's wipe that the optimiser may not remove as a dead store
    /// (`explicit_bzero` on Linux, `memset_s` on Apple platforms).
    static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        #if canImport(Darwin)
            _ = memset_s(base, buffer.count, 0, buffer.count)
        #elseif canImport(Glibc)
            explicit_bzero(base, buffer.count)
        #elseif canImport(Musl)
            explicit_bzero(base, buffer.count)
        #else
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        #endif
    }
}
