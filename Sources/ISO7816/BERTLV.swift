/// BER-TLV (ISO/IEC 7816-4 §5.2, ITU-T X.690): tags of one or more bytes, definite lengths of up to four bytes.
public enum BERTLV {
    /// The total length (tag, length and value) of the first BER-TLV object in `bytes`, read from its header
    /// alone; `nil` when the header is incomplete or malformed.
    ///
    /// Used to learn a file's length from its first bytes (a DER certificate begins `30 82 LL LL`).
    public static func encodedLength(ofFirstObjectIn bytes: some Collection<UInt8>) -> Int? {
        var index = bytes.startIndex
        guard index != bytes.endIndex else { return nil }
        let first = bytes[index]
        if first == 0x00 || first == 0xFF { return nil }
        var headerLength = 1
        index = bytes.index(after: index)
        if first & 0x1F == 0x1F {
            // Multi-byte tag: continuation bytes have bit 8 set.
            while true {
                guard index != bytes.endIndex, headerLength < 4 else { return nil }
                let b = bytes[index]
                headerLength += 1
                index = bytes.index(after: index)
                if b & 0x80 == 0 { break }
            }
        }
        guard index != bytes.endIndex else { return nil }
        let l = bytes[index]
        headerLength += 1
        index = bytes.index(after: index)
        if l < 0x80 { return headerLength + Int(l) }
        let count = Int(l & 0x7F)
        guard (1...4).contains(count) else { return nil }
        var length = 0
        for _ in 0..<count {
            guard index != bytes.endIndex else { return nil }
            length = length << 8 | Int(bytes[index])
            index = bytes.index(after: index)
        }
        headerLength += count
        return headerLength + length
    }
}
