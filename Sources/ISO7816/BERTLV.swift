/// BER-TLV (ISO/IEC 7816-4:2005 §5.2, ITU-T X.690 §8.1): tags of one to four bytes, definite lengths of up to
/// four length bytes.
///
/// ```swift
/// let objects = try BERTLV.decode(fileBytes)       // padding 00 / FF between objects is skipped
/// let name = objects.first(0xFF20)?.first(0xDF22)?.value
/// let bytes = BERTLV.encode(objects)               // minimal length forms
/// ```
///
/// Decoding is strict where a card's answer could mislead: a truncated tag or length, a length that runs past
/// the buffer, the indefinite length `80` (not allowed in DER or on ISO 7816 cards) and lengths of more than four
/// bytes all throw ``ISO7816Error/malformedTLV(offset:reason:)``. Non-minimal lengths (`81 05`) are accepted, as
/// BER allows; encoding always writes the minimal form.
///
/// ## Padding
///
/// ISO 7816-4 lets `00` and `FF` bytes without meaning stand before, between and after data objects. Because
/// some cards (the My Number card's text-input-support application, with its `FF 20` template) also use `FF` as
/// the first byte of a private-class tag, an `FF` counts as padding only when it is the last byte, or when the
/// byte after it is `00` or `FF`. A `00` is always padding.
///
/// ## Constructed tags with other contents
///
/// The same card keeps its individual number in EF `0001` as `FF 10 0C` and twelve ASCII digits: `FF10` is a
/// constructed tag by its bits, but its value is not BER-TLV. A strict decode refuses it; pass `lenient: true`
/// to keep such a value as bytes, with no children. The outer structure is checked either way.
public enum BERTLV {
    /// Decodes every BER-TLV object in `bytes`, skipping padding between them, with the children of constructed
    /// objects decoded too.
    ///
    /// - Parameters:
    ///   - bytes: The encoded objects.
    ///   - lenient: Whether a constructed object whose value is not BER-TLV is kept with its value bytes and no
    ///     children (`true`) instead of throwing (`false`, the default).
    /// - Throws: ``ISO7816Error/malformedTLV(offset:reason:)`` at the first malformed byte; `offset` counts from
    ///   the start of `bytes`.
    public static func decode(_ bytes: some Collection<UInt8>, lenient: Bool = false)
        throws(ISO7816Error)
        -> [TLV]
    {
        try decodeAll(Array(bytes)[...], depth: 0, lenient: lenient)
    }

    /// Encodes objects one after another, each with the minimal length form.
    public static func encode(_ objects: some Sequence<TLV>) -> [UInt8] {
        var out: [UInt8] = []
        for object in objects { object.append(to: &out) }
        return out
    }

    /// The length field for a value of `count` bytes, in its minimal form (`05`, `81 80`, `82 01 00`, …).
    public static func encodeLength(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(truncatingIfNeeded: count)] }
        var digits: [UInt8] = []
        var rest = count
        while rest > 0 {
            digits.insert(UInt8(truncatingIfNeeded: rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [0x80 | UInt8(truncatingIfNeeded: digits.count)] + digits
    }

    /// The total length (tag, length and value) of the first BER-TLV object in `bytes`, read from its header
    /// alone; `nil` when the header is incomplete or malformed, or when `bytes` begins with `00` or `FF`.
    ///
    /// Used to learn a file's length from its first bytes (a DER certificate begins `30 82 LL LL`). The value
    /// itself need not be present.
    public static func encodedLength(ofFirstObjectIn bytes: some Collection<UInt8>) -> Int? {
        let buffer = Array(bytes.prefix(16))[...]
        guard let first = buffer.first, first != 0x00, first != 0xFF else { return nil }
        guard let header = try? readHeader(buffer) else { return nil }
        return header.headerLength + header.valueLength
    }

    // MARK: - Decoding

    /// The most nesting of constructed objects decoded; deeper data are refused rather than overflow the stack.
    static let maximumDepth = 64

    struct Header {
        var tag: TLV.Tag
        var headerLength: Int
        var valueLength: Int
    }

    /// Reads a tag and a length at the start of `bytes` (offsets in errors are absolute indices).
    static func readHeader(_ bytes: ArraySlice<UInt8>) throws(ISO7816Error) -> Header {
        let start = bytes.startIndex
        var index = start
        guard index < bytes.endIndex else {
            throw .malformedTLV(offset: index, reason: "a tag is missing")
        }
        let first = bytes[index]
        var raw = UInt32(first)
        index += 1
        if first & 0x1F == 0x1F {
            var count = 0
            while true {
                guard index < bytes.endIndex else {
                    throw .malformedTLV(offset: index, reason: "the tag is truncated")
                }
                let b = bytes[index]
                if count == 0, b == 0x80 {
                    throw .malformedTLV(
                        offset: index, reason: "the tag's second byte is 80, which is not allowed")
                }
                count += 1
                guard count <= 3 else {
                    throw .malformedTLV(offset: index, reason: "the tag is longer than four bytes")
                }
                raw = raw << 8 | UInt32(b)
                index += 1
                if b & 0x80 == 0 { break }
            }
        }
        guard index < bytes.endIndex else {
            throw .malformedTLV(
                offset: index, reason: "the length of tag \(TLV.Tag(rawValue: raw)) is missing")
        }
        let l = bytes[index]
        index += 1
        var valueLength = 0
        if l == 0x80 {
            throw .malformedTLV(offset: index - 1, reason: "the indefinite length form 80 is not allowed")
        } else if l > 0x80 {
            let count = Int(l & 0x7F)
            guard count <= 4 else {
                throw .malformedTLV(
                    offset: index - 1, reason: "a length of \(count) bytes is longer than four")
            }
            guard bytes.endIndex - index >= count else {
                throw .malformedTLV(offset: index, reason: "the length field is truncated")
            }
            for _ in 0..<count {
                valueLength = valueLength << 8 | Int(bytes[index])
                index += 1
            }
        } else {
            valueLength = Int(l)
        }
        return Header(
            tag: TLV.Tag(rawValue: raw), headerLength: index - start, valueLength: valueLength)
    }

    /// Whether the byte at `index` is padding (see the type's discussion).
    static func isPadding(_ bytes: ArraySlice<UInt8>, at index: Int) -> Bool {
        switch bytes[index] {
        case 0x00: return true
        case 0xFF:
            let next = index + 1
            return next == bytes.endIndex || bytes[next] == 0x00 || bytes[next] == 0xFF
        default: return false
        }
    }

    static func decodeAll(_ bytes: ArraySlice<UInt8>, depth: Int, lenient: Bool) throws(ISO7816Error)
        -> [TLV]
    {
        guard depth <= maximumDepth else {
            throw .malformedTLV(
                offset: bytes.startIndex, reason: "objects are nested more than \(maximumDepth) deep")
        }
        var objects: [TLV] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if isPadding(bytes, at: index) {
                index += 1
                continue
            }
            let header = try readHeader(bytes[index...])
            let valueStart = index + header.headerLength
            guard header.valueLength <= bytes.endIndex - valueStart else {
                throw .malformedTLV(
                    offset: valueStart,
                    reason: "tag \(header.tag) announces \(header.valueLength) value bytes but only "
                        + "\(bytes.endIndex - valueStart) remain")
            }
            let valueEnd = valueStart + header.valueLength
            let value = bytes[valueStart..<valueEnd]
            var children: [TLV] = []
            if header.tag.isConstructed {
                if lenient {
                    children = (try? decodeAll(value, depth: depth + 1, lenient: true)) ?? []
                } else {
                    children = try decodeAll(value, depth: depth + 1, lenient: false)
                }
            }
            objects.append(TLV(checkedTag: header.tag, value: Array(value), children: children))
            index = valueEnd
        }
        return objects
    }
}

/// One BER-TLV data object: a tag, its value bytes and, for a constructed tag, the objects inside the value.
///
/// ```swift
/// let holder = try TLV(tag: 0x5F20, value: Array("TARO".utf8))
/// let template = try TLV(tag: 0x7F49, children: [holder])
/// template.encoded    // 7F 49 07 5F 20 04 54 41 52 4F
/// ```
///
/// A value is immutable: its `value` bytes and `children` always agree.
public struct TLV: Sendable, Hashable, CustomStringConvertible {
    /// A BER-TLV tag, kept as its bytes read as one big-endian number (`DF21` is `0xDF21`).
    public struct Tag: RawRepresentable, Sendable, Hashable, ExpressibleByIntegerLiteral,
        CustomStringConvertible
    {
        /// The class of a tag (bits 8 and 7 of its first byte).
        public enum TagClass: Sendable, Hashable {
            /// `00xxxxxx`: universal (ASN.1 types such as SEQUENCE `30`).
            case universal
            /// `01xxxxxx`: application (`5F20`, `7F49`).
            case application
            /// `10xxxxxx`: context-specific (`80`, `A0`).
            case contextSpecific
            /// `11xxxxxx`: private (`DF21`, `FF20`).
            case `private`
        }

        /// The tag's bytes as one big-endian number (`0xDF21`, `0x5F20`, `0x9F8101`).
        public let rawValue: UInt32

        /// Makes a tag from its bytes as one number. Any value is accepted, so a tag can be used to look things
        /// up; ``isValid`` says whether it can be encoded.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Makes a tag from its bytes as one number (`0xDF21`).
        public init(_ rawValue: UInt32) { self.rawValue = rawValue }

        /// Makes a tag from an integer literal: `let tag: TLV.Tag = 0x5F20`.
        public init(integerLiteral value: UInt32) { self.rawValue = value }

        /// Makes a tag from its bytes, as they appear in an encoding.
        ///
        /// - Throws: ``ISO7816Error/malformedTLV(offset:reason:)`` unless `bytes` is exactly one valid tag.
        public init(bytes: [UInt8]) throws(ISO7816Error) {
            guard (1...4).contains(bytes.count) else {
                throw .malformedTLV(offset: 0, reason: "a tag has one to four bytes, not \(bytes.count)")
            }
            let tag = Tag(rawValue: bytes.reduce(0) { $0 << 8 | UInt32($1) })
            guard tag.isValid, tag.bytes == bytes else {
                throw .malformedTLV(offset: 0, reason: "\(Hex.encode(bytes)) is not one BER-TLV tag")
            }
            self = tag
        }

        /// The tag's bytes, as encoded.
        public var bytes: [UInt8] {
            var out: [UInt8] = []
            var shift = 24
            while shift >= 0 {
                let b = UInt8(truncatingIfNeeded: rawValue >> UInt32(shift))
                if !out.isEmpty || b != 0 || shift == 0 { out.append(b) }
                shift -= 8
            }
            return out
        }

        /// The tag's first byte.
        var firstByte: UInt8 {
            var shift: UInt32 = 24
            while shift > 0, rawValue >> shift == 0 { shift -= 8 }
            return UInt8(truncatingIfNeeded: rawValue >> shift)
        }

        /// The tag's class, from its first byte.
        public var tagClass: TagClass {
            switch firstByte >> 6 {
            case 0: .universal
            case 1: .application
            case 2: .contextSpecific
            default: .private
            }
        }

        /// Whether the value holds further data objects (bit 6 of the first byte).
        public var isConstructed: Bool { firstByte & 0x20 != 0 }

        /// Whether the bytes form one well-made tag: a first byte other than `00`, further bytes only when its
        /// low five bits are all ones, every further byte but the last with bit 8 set, and a second byte other
        /// than `80`.
        public var isValid: Bool {
            let b = bytes
            guard b[0] != 0 else { return false }
            if b[0] & 0x1F != 0x1F { return b.count == 1 }
            guard b.count >= 2, b[1] != 0x80 else { return false }
            for (i, byte) in b.enumerated().dropFirst() {
                let isLast = i == b.count - 1
                if isLast == (byte & 0x80 != 0) { return false }
            }
            return true
        }

        /// The tag in hex without spaces (`"DF21"`).
        public var description: String { Hex.encode(bytes, separator: "") }
    }

    /// The tag.
    public let tag: Tag
    /// The value bytes (for a constructed object: its children as they were encoded).
    public let value: [UInt8]
    /// The objects inside the value of a constructed object; empty for a primitive one.
    public let children: [TLV]

    /// Whether the object is constructed (its tag says the value holds further objects).
    public var isConstructed: Bool { tag.isConstructed }

    /// Makes an object from its tag and value bytes; a constructed tag's value is decoded into ``children``.
    ///
    /// - Throws: ``ISO7816Error/malformedTLV(offset:reason:)`` when the tag is not valid, the value is longer
    ///   than four length bytes can say, or a constructed tag's value is not BER-TLV.
    public init(tag: Tag, value: [UInt8]) throws(ISO7816Error) {
        try Self.check(tag, count: value.count)
        self.tag = tag
        self.value = value
        self.children =
            tag.isConstructed ? try BERTLV.decodeAll(value[...], depth: 1, lenient: false) : []
    }

    /// Makes a constructed object from the objects it holds.
    ///
    /// - Throws: ``ISO7816Error/malformedTLV(offset:reason:)`` when the tag is not a valid constructed tag.
    public init(tag: Tag, children: [TLV]) throws(ISO7816Error) {
        guard tag.isValid, tag.isConstructed else {
            throw .malformedTLV(offset: 0, reason: "tag \(tag) is not a valid constructed tag")
        }
        let value = BERTLV.encode(children)
        try Self.check(tag, count: value.count)
        self.tag = tag
        self.value = value
        self.children = children
    }

    /// Decodes exactly one object; padding may surround it, nothing else.
    ///
    /// - Parameters:
    ///   - bytes: The encoded object.
    ///   - lenient: As in ``BERTLV/decode(_:lenient:)``.
    /// - Throws: ``ISO7816Error/malformedTLV(offset:reason:)`` when the bytes are malformed, hold no object, or
    ///   hold more than one.
    public init(bytes: some Collection<UInt8>, lenient: Bool = false) throws(ISO7816Error) {
        let objects = try BERTLV.decode(bytes, lenient: lenient)
        guard objects.count == 1 else {
            throw .malformedTLV(offset: 0, reason: "expected one data object but found \(objects.count)")
        }
        self = objects[0]
    }

    init(checkedTag tag: Tag, value: [UInt8], children: [TLV]) {
        self.tag = tag
        self.value = value
        self.children = children
    }

    private static func check(_ tag: Tag, count: Int) throws(ISO7816Error) {
        guard tag.isValid else {
            throw .malformedTLV(offset: 0, reason: "\(tag) is not a valid BER-TLV tag")
        }
        guard count <= Int(UInt32.max) else {
            throw .malformedTLV(
                offset: 0, reason: "a value of \(count) bytes needs more than four length bytes")
        }
    }

    /// The object's encoding: tag, minimal length, value.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    func append(to out: inout [UInt8]) {
        out.append(contentsOf: tag.bytes)
        out.append(contentsOf: BERTLV.encodeLength(value.count))
        out.append(contentsOf: value)
    }

    /// The first child with `tag`, or `nil`.
    public func first(_ tag: Tag) -> TLV? {
        children.first { $0.tag == tag }
    }

    /// Every child with `tag`, in order.
    public func all(_ tag: Tag) -> [TLV] {
        children.filter { $0.tag == tag }
    }

    /// The first object with `tag` among the children and their descendants, depth first; `nil` when none.
    public func descendant(_ tag: Tag) -> TLV? {
        children.descendant(tag)
    }

    /// `"DF21 (8 bytes): 00 0E 00 20 00 59 00 64"`, or for a constructed object its tag and children.
    public var description: String {
        if isConstructed {
            return "\(tag) { " + children.map(\.description).joined(separator: ", ") + " }"
        }
        return "\(tag) (\(value.count) bytes): \(Hex.encode(value))"
    }
}

extension Sequence where Element == TLV {
    /// The first object with `tag` (not looking inside constructed objects), or `nil`.
    public func first(_ tag: TLV.Tag) -> TLV? {
        first { $0.tag == tag }
    }

    /// Every object with `tag` (not looking inside constructed objects), in order.
    public func all(_ tag: TLV.Tag) -> [TLV] {
        filter { $0.tag == tag }
    }

    /// The first object with `tag`, looking inside constructed objects depth first; `nil` when none.
    public func descendant(_ tag: TLV.Tag) -> TLV? {
        for object in self {
            if object.tag == tag { return object }
            if let found = object.children.descendant(tag) { return found }
        }
        return nil
    }
}
