// BER-TLV as cards send it (FCI templates, JPKI and IC card data objects): strict and lenient decoding, the
// header-only length a whole-file read relies on, and the round trip through the encoder.
import FuzzSupport
import ISO7816

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    _ = BERTLV.encodedLength(ofFirstObjectIn: bytes)
    _ = try? TLV.Tag(bytes: Array(bytes.prefix(4)))
    if let object = try? TLV(bytes: bytes, lenient: true) {
        _ = object.description
        _ = object.descendant(0x5F20)
    }
    _ = try? TLV(bytes: bytes)
    do {
        let objects = try BERTLV.decode(bytes)
        // What the strict decoder accepts, the encoder writes back and the decoder reads again unchanged.
        let encoded = BERTLV.encode(objects)
        let again = try BERTLV.decode(encoded)
        precondition(again == objects, "BER-TLV round trip changed the objects")
        for object in objects {
            _ = object.description
            _ = object.all(0x80)
            _ = object.first(0x84)
            _ = object.tag.tagClass
            _ = object.tag.isValid
        }
    } catch {
        _ = error.description
    }
    if let objects = try? BERTLV.decode(bytes, lenient: true) {
        _ = BERTLV.encode(objects)
        _ = objects.descendant(0x9F7F)
    }
    return 0
}
