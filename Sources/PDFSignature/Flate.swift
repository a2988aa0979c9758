import CZlib

/// FlateDecode (zlib) and the PNG predictors of ISO 32000-1 §7.4.4, for xref streams and object streams.
enum Flate {
    /// Inflates zlib data.
    static func inflate(_ data: [UInt8]) throws(PDFSignatureError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw PDFSignatureError(.malformedPDF, "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var input = data
        let status: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let result: Int32 = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk[0..<(chunk.count - Int(stream.avail_out))]
                if result == Z_STREAM_END { return Z_STREAM_END }
                if result != Z_OK { return result }
                if stream.avail_in == 0 && stream.avail_out != 0 { return Z_STREAM_END }  // truncated but usable
                if output.count > 256 << 20 { return Z_MEM_ERROR }
            }
        }
        guard status == Z_STREAM_END else { throw PDFSignatureError(.malformedPDF, "a Flate stream is damaged") }
        return output
    }

    /// Decodes a stream's data by its `/Filter` and `/DecodeParms` (only FlateDecode, with or without PNG
    /// predictors, is needed for xref and object streams).
    static func decode(_ data: [UInt8], dictionary: PDFDictionary) throws(PDFSignatureError) -> [UInt8] {
        var filters: [String] = []
        switch dictionary["Filter"] {
        case nil: return data
        case .name(let name)?: filters = [name]
        case .array(let items)?: filters = items.compactMap(\.name)
        default: throw PDFSignatureError(.malformedPDF, "a stream's /Filter is not a name")
        }
        guard filters.allSatisfy({ $0 == "FlateDecode" || $0 == "Fl" }), filters.count <= 1 else {
            throw PDFSignatureError(.malformedPDF, "a stream uses \(filters), not FlateDecode")
        }
        if filters.isEmpty { return data }
        var decoded = try inflate(data)
        var parameters = dictionary["DecodeParms"]?.dictionary
        if parameters == nil, let first = dictionary["DecodeParms"]?.array?.first { parameters = first.dictionary }
        if let parameters, let predictor = parameters["Predictor"]?.integer, predictor >= 10 {
            let columns = parameters["Columns"]?.integer ?? 1
            let colors = parameters["Colors"]?.integer ?? 1
            let bits = parameters["BitsPerComponent"]?.integer ?? 8
            decoded = try unpredictPNG(decoded, columns: columns, bytesPerPixel: max(1, colors * bits / 8))
        } else if let predictor = parameters?["Predictor"]?.integer, predictor == 2 {
            throw PDFSignatureError(.malformedPDF, "a stream uses the TIFF predictor")
        }
        return decoded
    }

    /// Undoes PNG row filters: each row is a filter-type byte then `columns` bytes.
    static func unpredictPNG(_ data: [UInt8], columns: Int, bytesPerPixel: Int) throws(PDFSignatureError) -> [UInt8] {
        guard columns > 0, columns < 1 << 20 else { throw PDFSignatureError(.malformedPDF, "bad predictor columns") }
        let rowLength = columns + 1
        var output: [UInt8] = []
        output.reserveCapacity(data.count)
        var previous = [UInt8](repeating: 0, count: columns)
        var offset = 0
        while offset + rowLength <= data.count {
            let type = data[offset]
            var row = Array(data[(offset + 1)..<(offset + rowLength)])
            for i in 0..<columns {
                let left = i >= bytesPerPixel ? Int(row[i - bytesPerPixel]) : 0
                let up = Int(previous[i])
                let upLeft = i >= bytesPerPixel ? Int(previous[i - bytesPerPixel]) : 0
                let value = Int(row[i])
                switch type {
                case 0: break
                case 1: row[i] = UInt8((value + left) & 0xFF)
                case 2: row[i] = UInt8((value + up) & 0xFF)
                case 3: row[i] = UInt8((value + (left + up) / 2) & 0xFF)
                case 4:
                    let p = left + up - upLeft
                    let pa = abs(p - left)
                    let pb = abs(p - up)
                    let pc = abs(p - upLeft)
                    let predictor = pa <= pb && pa <= pc ? left : (pb <= pc ? up : upLeft)
                    row[i] = UInt8((value + predictor) & 0xFF)
                default: throw PDFSignatureError(.malformedPDF, "unknown PNG predictor \(type)")
                }
            }
            output += row
            previous = row
            offset += rowLength
        }
        return output
    }
}
