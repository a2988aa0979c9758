import ISO7816
import Testing

@Suite("BER-TLV")
struct BERTLVTests {
    /// The synthetic text-input-support EF 0002 from JPKI.md (soltia48/myna-card).
    static let textInputSupport =
        "ff2065df2108000e002000590064df220fe9bb92e6a190e38080e5b9b9e4b99fdf2336e69db1e4baace983bde6b885e780ace5"
        + "b882e8a6b3e5b883e5ad90e58d97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92df24083139383030323137df25"
        + "0131"

    @Test("The JPKI text-input-support vector decodes: FF20 with DF21 to DF25")
    func jpkiTextInputSupport() throws {
        let bytes = try hex(Self.textInputSupport)
        let objects = try BERTLV.decode(bytes)
        #expect(objects.count == 1)
        let template = try #require(objects.first(0xFF20))
        #expect(template.isConstructed)
        #expect(template.tag.tagClass == .private)
        #expect(template.value.count == 0x65)
        #expect(template.children.map(\.tag) == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25])
        #expect(template.first(0xDF21)?.value == [0x00, 0x0E, 0x00, 0x20, 0x00, 0x59, 0x00, 0x64])
        let name = try #require(template.first(0xDF22))
        #expect(String(decoding: name.value, as: UTF8.self) == "黒桐\u{3000}幹也")
        #expect(!name.isConstructed)
        let address = try #require(template.first(0xDF23))
        #expect(String(decoding: address.value, as: UTF8.self) == "東京都清瀬市観布子南１２－７－２０２")
        #expect(template.first(0xDF24).map { String(decoding: $0.value, as: UTF8.self) } == "19800217")
        #expect(template.first(0xDF25)?.value == Array("1".utf8))
        #expect(template.first(0xDF26) == nil)
        #expect(objects.descendant(0xDF24)?.value.count == 8)
        #expect(BERTLV.encode(objects) == bytes)

        // As the card stores it: padded with FF after the template.
        let padded = try BERTLV.decode(bytes + [0xFF, 0xFF, 0xFF])
        #expect(padded == objects)
    }

    @Test("The text-input-support EF 0001: FF10 and trailing FF FF padding")
    func jpkiIndividualNumber() throws {
        let bytes = try hex("FF 10 0C") + Array("123456789012".utf8) + [0xFF, 0xFF]
        // FF10 is constructed by its bits, but holds ASCII digits: strict decoding refuses it.
        #expect(throws: ISO7816Error.self) { try BERTLV.decode(bytes) }
        let objects = try BERTLV.decode(bytes, lenient: true)
        #expect(objects.count == 1)
        #expect(objects.first?.tag == 0xFF10)
        #expect(objects.first?.isConstructed == true)
        #expect(objects.first?.children == [])
        #expect(objects.first?.value == Array("123456789012".utf8))
        #expect(BERTLV.encode(objects) == Array(bytes.dropLast(2)))
        // Lenient decoding still checks the outer structure.
        #expect(throws: ISO7816Error.self) { try BERTLV.decode(bytes.dropLast(4), lenient: true) }
    }

    @Test("Multi-byte tags: DF21, 5F20, 7F49, three-byte tags")
    func multiByteTags() throws {
        let holder = try TLV(tag: 0x5F20, value: Array("TARO".utf8))
        #expect(holder.tag.tagClass == .application)
        #expect(!holder.isConstructed)
        #expect(try holder.encoded == hex("5F 20 04 54 41 52 4F"))
        let key = try TLV(
            tag: 0x7F49, children: [try TLV(tag: 0x81, value: [1, 2]), try TLV(tag: 0x82, value: [3])])
        #expect(key.isConstructed)
        #expect(try key.encoded == hex("7F 49 07 81 02 01 02 82 01 03"))
        let threeByte = try TLV(tag: 0x9F8101, value: [0xAA])
        #expect(threeByte.tag.bytes == [0x9F, 0x81, 0x01])
        #expect(threeByte.tag.tagClass == .contextSpecific)
        #expect(try threeByte.encoded == hex("9F 81 01 01 AA"))
        let decoded = try BERTLV.decode(hex("9F 81 01 01 AA DF 21 00 5F 20 01 41"))
        #expect(decoded.map(\.tag) == [0x9F8101, 0xDF21, 0x5F20])
        #expect(decoded[1].value.isEmpty)
        #expect(TLV.Tag(0xDF21).description == "DF21")
        #expect(try TLV.Tag(bytes: [0xDF, 0x21]) == 0xDF21)
        #expect(TLV.Tag(0x30).tagClass == .universal)
        #expect(TLV.Tag(0x30).isConstructed)
    }

    @Test("Invalid tags are refused where an encoding would be made")
    func invalidTags() throws {
        #expect(!TLV.Tag(0x00).isValid)
        #expect(!TLV.Tag(0x1F).isValid)  // announces a second byte
        #expect(!TLV.Tag(0x5F).isValid)
        #expect(!TLV.Tag(0x9F81).isValid)  // the last byte has bit 8 set
        #expect(!TLV.Tag(0x9F8001).isValid)  // second byte 80
        #expect(!TLV.Tag(0x8101).isValid)  // a one-byte tag followed by another byte
        #expect(TLV.Tag(0xFF20).isValid)
        for bad: TLV.Tag in [0x00, 0x1F, 0x9F81] {
            #expect(throws: ISO7816Error.self) { try TLV(tag: bad, value: []) }
        }
        #expect(throws: ISO7816Error.self) { try TLV(tag: 0x5F20, children: []) }  // primitive tag
        #expect(throws: ISO7816Error.self) { try TLV.Tag(bytes: [0xDF]) }
        #expect(throws: ISO7816Error.self) { try TLV.Tag(bytes: []) }
        #expect(throws: ISO7816Error.self) { try TLV.Tag(bytes: [0x00, 0x81]) }
        // A constructed tag whose value is not BER-TLV.
        #expect(throws: ISO7816Error.self) { try TLV(tag: 0x7F49, value: [0x81, 0x05, 0x00]) }
    }

    @Test(
        "Long lengths: 81, 82, 83 and 84 forms, minimal on encoding",
        arguments: [
            (0, "00"), (127, "7F"), (128, "81 80"), (255, "81 FF"), (256, "82 01 00"),
            (65535, "82 FF FF"),
            (65536, "83 01 00 00"), (16_777_216, "84 01 00 00 00"),
        ] as [(Int, String)])
    func lengths(count: Int, expected: String) throws {
        #expect(BERTLV.encodeLength(count) == (try hex(expected)))
    }

    @Test("Round trips through every length form")
    func roundTrips() throws {
        for count in [0, 1, 127, 128, 255, 256, 1000, 65535, 65536, 70000] {
            let object = try TLV(tag: 0x04, value: pattern(count))
            let encoded = object.encoded
            #expect(
                Array(encoded.dropFirst().prefix(BERTLV.encodeLength(count).count))
                    == BERTLV.encodeLength(count))
            let decoded = try TLV(bytes: encoded)
            #expect(decoded == object)
            #expect(BERTLV.encodedLength(ofFirstObjectIn: encoded) == encoded.count)
        }
        let nested = try TLV(
            tag: 0x30,
            children: [
                try TLV(tag: 0xA0, children: [try TLV(tag: 0x02, value: [2])]),
                try TLV(tag: 0x04, value: pattern(300)),
            ])
        let decoded = try TLV(bytes: nested.encoded)
        #expect(decoded == nested)
        #expect(decoded.children.count == 2)
        #expect(decoded.descendant(0x02)?.value == [2])
        #expect(decoded.all(0x04).count == 1)
        #expect(decoded.first(0x02) == nil)  // only direct children
    }

    @Test("Non-minimal lengths decode; the encoding is minimal")
    func nonMinimal() throws {
        let object = try TLV(bytes: hex("04 82 00 02 AB CD"))
        #expect(object.value == [0xAB, 0xCD])
        #expect(try object.encoded == hex("04 02 AB CD"))
    }

    @Test("Padding 00 and FF before, between and after objects")
    func padding() throws {
        let objects = try BERTLV.decode(hex("00 00 80 01 AA FF FF 00 81 01 BB 00 FF"))
        #expect(objects.map(\.tag) == [0x80, 0x81])
        #expect(objects.all(0x81).first?.value == [0xBB])
        #expect(try BERTLV.decode(hex("00 FF 00")).isEmpty)
        #expect(try BERTLV.decode([]).isEmpty)
        let inside = try TLV(bytes: hex("70 07 00 80 01 AA 00 FF FF"))
        #expect(inside.children.map(\.tag) == [0x80])
        #expect(try inside.encoded == hex("70 07 00 80 01 AA 00 FF FF"))  // the value keeps its bytes
    }

    @Test(
        "Every bound is checked",
        arguments: [
            ("DF", 1, "the tag is truncated"),
            ("DF 81", 2, "the tag is truncated"),
            ("9F 80 01 00", 1, "the tag's second byte is 80"),
            ("DF 81 81 81 01 00", 4, "the tag is longer than four bytes"),
            ("5F 20", 2, "is missing"),
            ("04 82 01", 2, "the length field is truncated"),
            ("04 05 01 02", 2, "announces 5 value bytes but only 2 remain"),
            ("04 81 80", 3, "announces 128 value bytes"),
            ("30 80 04 00 00 00", 1, "indefinite length"),
            ("04 85 00 00 00 00 01 00", 1, "longer than four"),
            ("30 04 04 05 01 02", 4, "announces 5 value bytes"),
            ("80 01 AA 5F", 4, "the tag is truncated"),
        ] as [(String, Int, String)])
    func bounds(text: String, offset: Int, reason: String) throws {
        let bytes = try hex(text)
        let error = #expect(throws: ISO7816Error.self) { try BERTLV.decode(bytes) }
        guard case .malformedTLV(let at, let why) = error else {
            Issue.record("expected malformedTLV, got \(String(describing: error))")
            return
        }
        #expect(at == offset)
        #expect(why.contains(reason), "\(why)")
    }

    @Test("TLV(bytes:) wants exactly one object")
    func exactlyOne() throws {
        #expect(throws: ISO7816Error.self) { try TLV(bytes: hex("80 01 AA 81 01 BB")) }
        #expect(throws: ISO7816Error.self) { try TLV(bytes: [UInt8]()) }
        #expect(try TLV(bytes: hex("80 01 AA FF FF")).value == [0xAA])
    }

    @Test("Deep nesting is refused, not a stack overflow")
    func deepNesting() throws {
        var bytes: [UInt8] = []
        for _ in 0..<100 { bytes = [0x30] + BERTLV.encodeLength(bytes.count) + bytes }
        let error = #expect(throws: ISO7816Error.self) { try BERTLV.decode(bytes) }
        guard case .malformedTLV(_, let reason) = error else {
            Issue.record("expected malformedTLV")
            return
        }
        #expect(reason.contains("nested"))
    }

    @Test("encodedLength(ofFirstObjectIn:) reads the header alone")
    func encodedLengthFromHeader() throws {
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("30 82 03 E4")) == 1000)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("30 81 80 01")) == 131)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("5F 20 04")) == 7)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("30 82 03")) == nil)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("30 80")) == nil)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("30 85 01 02 03 04 05")) == nil)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("FF 20 65")) == nil)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("00 30 01 00")) == nil)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: [UInt8]()) == nil)
        #expect(BERTLV.encodedLength(ofFirstObjectIn: try hex("DF")) == nil)
    }

    @Test("Descriptions")
    func descriptions() throws {
        let object = try TLV(tag: 0x70, children: [try TLV(tag: 0xDF21, value: [1, 2])])
        #expect(object.description == "70 { DF21 (2 bytes): 01 02 }")
    }
}
