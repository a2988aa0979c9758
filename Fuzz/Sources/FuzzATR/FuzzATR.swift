// The ATR as a reader reports it: parsing, and every reading of it cardtool prints.
import FuzzSupport
import ISO7816

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    do {
        let atr = try ATR(bytes: bytes)
        _ = atr.summary
        _ = atr.description
        _ = atr.protocols
        _ = atr.transmissionProtocols
        _ = atr.indicatesGlobalInterfaceBytes
        _ = atr.clockRateConversion
        _ = atr.maximumClockFrequencyKHz
        _ = atr.baudRateAdjustment
        _ = atr.historicalBytes
        _ = atr.checksum
    } catch {
        _ = error.description
    }
    return 0
}
