#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Assuan protocol's escaping and the error codes of the pinentry programs (GnuPG's pinentry manual).
enum Assuan {
    /// The longest line the protocol allows, in bytes, without its line feed.
    static let maximumLineLength = 1000

    /// The GnuPG error codes a pinentry answers with (`ERR <code> <text>`), compared on their low 16 bits (the
    /// high bits name the error's source).
    enum ErrorCode {
        /// GPG_ERR_CANCELED: the person pressed Cancel or closed the dialog.
        static let cancelled: UInt32 = 99
        /// GPG_ERR_TIMEOUT: the dialog's time (SETTIMEOUT) ran out.
        static let timeout: UInt32 = 62
        /// GPG_ERR_NOT_CONFIRMED: the person answered No to CONFIRM.
        static let notConfirmed: UInt32 = 114
    }

    /// A command parameter with `%`, CR and LF escaped (`%25`, `%0D`, `%0A`), as the protocol wants it.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Appends the percent-unescaped `bytes` to `output`; false (and nothing appended past the error) for a `%`
    /// not followed by two hexadecimal digits.
    static func unescape(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex,
                    let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
                else { return false }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        return true
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Zeros `bytes` with the C library's wipe that the optimiser may not remove, then empties the array.
    static func wipe(_ bytes: inout [UInt8]) {
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
