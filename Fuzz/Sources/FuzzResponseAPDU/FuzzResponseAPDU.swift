// Response APDUs: the trailer and everything the library reads from a status word.
import FuzzSupport
import ISO7816

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    do {
        let response = try ResponseAPDU(bytes: bytes)
        precondition(response.bytes == bytes, "a response APDU does not give back its bytes")
        _ = response.description
        let word = response.statusWord
        _ = word.description
        _ = word.meaning
        _ = word.category
        _ = word.bytesRemaining
        _ = word.correctExpectedLength
        _ = word.verificationTriesLeft
        _ = try? response.successData(for: "fuzz")
    } catch {
        _ = error.description
    }
    return 0
}
