/// Builders for the interindustry commands a client needs (ISO/IEC 7816-4:2005 §7, ISO/IEC 7816-8).
///
/// Each builder checks its parameters and throws ``ISO7816Error`` instead of trapping. The class byte defaults to
/// `00`; pass `cla:` (and for some commands `p1:`/`p2:`) where a card differs, as the My Number card does for
/// signing (`80 2A 00 80`).
extension CommandAPDU {
    /// What SELECT asks the card to answer (P2 bits 4 and 3, ISO/IEC 7816-4:2005 §7.1.1, table 40).
    public enum SelectResponse: UInt8, Sendable, Hashable {
        /// `00`: return the file control information (FCI template `6F`).
        case fci = 0x00
        /// `04`: return the file control parameters (FCP template `62`).
        case fcp = 0x04
        /// `08`: return the file management data (FMD template `64`).
        case fmd = 0x08
        /// `0C`: return no data (case 3; what the My Number card's clients send).
        case none = 0x0C
    }

    /// Which of several files matching a SELECT to pick (P2 bits 2 and 1, ISO/IEC 7816-4:2005 §7.1.1).
    public enum SelectOccurrence: UInt8, Sendable, Hashable {
        /// `00`: the first (or only) occurrence.
        case first = 0x00
        /// `01`: the last occurrence.
        case last = 0x01
        /// `02`: the next occurrence (after a previous SELECT with the same DF name).
        case next = 0x02
        /// `03`: the previous occurrence.
        case previous = 0x03
    }

    /// How SELECT by file identifier looks for the file (P1, ISO/IEC 7816-4:2005 §7.1.1, table 39).
    public enum FileIDSelection: UInt8, Sendable, Hashable {
        /// `00`: any file (MF, DF or EF) by its identifier.
        case any = 0x00
        /// `01`: a DF under the current DF.
        case childDF = 0x01
        /// `02`: an EF under the current DF (what the My Number card's clients send).
        case elementaryFile = 0x02
    }

    /// The response bits of SELECT, with ``SelectResponse/fci`` and ``SelectResponse/fcp`` asking for data.
    private static func selectExpectedLength(_ response: SelectResponse) -> Int? {
        response == .none ? nil : 256
    }

    /// SELECT by DF name (application identifier): `00 A4 04 P2 Lc AID [Le]` (ISO/IEC 7816-4:2005 §7.1.1).
    ///
    /// ```swift
    /// let jpki = try CommandAPDU.select(aid: [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01])
    /// // 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01
    /// ```
    ///
    /// - Parameters:
    ///   - aid: The DF name, 1 to 16 bytes (an AID has 5 to 16).
    ///   - response: What the card should answer; with ``SelectResponse/none`` (the default) the command is case 3,
    ///     otherwise case 4 with Le = `00`.
    ///   - occurrence: Which matching application to select.
    ///   - cla: The class byte.
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` when the name is empty or longer than 16 bytes.
    public static func select(
        aid: [UInt8], response: SelectResponse = .none, occurrence: SelectOccurrence = .first,
        cla: UInt8 = 0x00
    ) throws(ISO7816Error) -> CommandAPDU {
        guard (1...16).contains(aid.count) else {
            throw .invalidCommandParameter("a DF name has 1 to 16 bytes, not \(aid.count)")
        }
        return try CommandAPDU(
            cla: cla, ins: 0xA4, p1: 0x04, p2: response.rawValue | occurrence.rawValue, data: aid,
            expectedLength: selectExpectedLength(response))
    }

    /// SELECT by file identifier: `00 A4 P1 P2 02 FID [Le]` (ISO/IEC 7816-4:2005 §7.1.1).
    ///
    /// ```swift
    /// let pinFile = try CommandAPDU.select(fileID: 0x001B)   // 00 A4 02 0C 02 00 1B
    /// ```
    ///
    /// - Parameters:
    ///   - fileID: The two-byte file identifier.
    ///   - selection: Where to look; by default an EF under the current DF (P1 = `02`).
    ///   - response: What the card should answer; by default nothing (P2 = `0C`, case 3).
    ///   - cla: The class byte.
    public static func select(
        fileID: UInt16, selection: FileIDSelection = .elementaryFile, response: SelectResponse = .none,
        cla: UInt8 = 0x00
    ) throws(ISO7816Error) -> CommandAPDU {
        try CommandAPDU(
            cla: cla, ins: 0xA4, p1: selection.rawValue, p2: response.rawValue,
            data: [UInt8(fileID >> 8), UInt8(fileID & 0xFF)],
            expectedLength: selectExpectedLength(response))
    }

    /// SELECT by file identifier given as its two bytes (ISO/IEC 7816-4:2005 §7.1.1).
    ///
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` unless `fileID` has exactly two bytes.
    public static func select(
        fileID: [UInt8], selection: FileIDSelection = .elementaryFile, response: SelectResponse = .none,
        cla: UInt8 = 0x00
    ) throws(ISO7816Error) -> CommandAPDU {
        guard fileID.count == 2 else {
            throw .invalidCommandParameter("a file identifier has 2 bytes, not \(fileID.count)")
        }
        return try select(
            fileID: UInt16(fileID[0]) << 8 | UInt16(fileID[1]), selection: selection, response: response,
            cla: cla)
    }

    /// READ BINARY of the current EF: `00 B0 P1 P2 Le` (ISO/IEC 7816-4:2005 §7.2.3).
    ///
    /// P1-P2 carry the offset (bit 8 of P1 stays 0, so the offset is at most `7FFF`). The APDU is short when
    /// `expectedLength` is at most 256 (Le = `00` for 256) and extended otherwise (Le = `00 00` for 65536).
    ///
    /// - Parameters:
    ///   - offset: Where to start reading, 0 to 32767.
    ///   - expectedLength: How many bytes to read, 1 to 65536; by default 256.
    ///   - cla: The class byte.
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` for an offset outside 0...32767, or
    ///   ``ISO7816Error/expectedLengthOutOfRange(_:)``.
    public static func readBinary(offset: Int = 0, expectedLength: Int = 256, cla: UInt8 = 0x00)
        throws(ISO7816Error) -> CommandAPDU
    {
        guard (0...0x7FFF).contains(offset) else {
            throw .invalidCommandParameter("a READ BINARY offset is 0 to 32767 (7FFF), not \(offset)")
        }
        return try CommandAPDU(
            cla: cla, ins: 0xB0, p1: UInt8(offset >> 8), p2: UInt8(offset & 0xFF),
            expectedLength: expectedLength)
    }

    /// READ BINARY of the EF with a short EF identifier: `00 B0 (80|SFI) offset Le` (ISO/IEC 7816-4:2005 §7.2.3).
    ///
    /// The file becomes the current EF.
    ///
    /// - Parameters:
    ///   - shortFileID: The short EF identifier, 1 to 30.
    ///   - offset: Where to start reading, 0 to 255.
    ///   - expectedLength: How many bytes to read, 1 to 65536; by default 256.
    ///   - cla: The class byte.
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` for an identifier or offset out of range.
    public static func readBinary(
        shortFileID: UInt8, offset: Int = 0, expectedLength: Int = 256, cla: UInt8 = 0x00
    ) throws(ISO7816Error) -> CommandAPDU {
        guard (1...30).contains(shortFileID) else {
            throw .invalidCommandParameter("a short EF identifier is 1 to 30, not \(shortFileID)")
        }
        guard (0...0xFF).contains(offset) else {
            throw .invalidCommandParameter(
                "with a short EF identifier the offset is 0 to 255, not \(offset)")
        }
        return try CommandAPDU(
            cla: cla, ins: 0xB0, p1: 0x80 | shortFileID, p2: UInt8(offset), expectedLength: expectedLength
        )
    }

    /// VERIFY with a PIN: `00 20 00 ref Lc PIN` (ISO/IEC 7816-4:2005 §7.5.6). The command is marked sensitive,
    /// so its data print as `<redacted>`; wipe it with ``wipeData()`` once sent.
    ///
    /// The card answers `90 00`, or `63 Cx` with x tries left, or `69 83` / `69 84` when the PIN is blocked.
    ///
    /// - Parameters:
    ///   - reference: The reference data qualifier P2 (`80` plus the PIN number for a PIN local to the
    ///     application, as on the My Number card).
    ///   - pin: The PIN's bytes as the card expects them (ASCII digits for the My Number card), 1 to 255 bytes.
    ///   - cla: The class byte.
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` when the PIN is empty or longer than 255 bytes. The
    ///   error never contains the PIN.
    public static func verify(reference: UInt8, pin: [UInt8], cla: UInt8 = 0x00) throws(ISO7816Error)
        -> CommandAPDU
    {
        guard (1...CommandAPDU.maxShortData).contains(pin.count) else {
            throw .invalidCommandParameter("a PIN for VERIFY has 1 to 255 bytes")
        }
        return try CommandAPDU(cla: cla, ins: 0x20, p1: 0x00, p2: reference, data: pin, sensitive: true)
    }

    /// VERIFY without data, which asks how many tries are left: `00 20 00 ref` (case 1, ISO/IEC 7816-4:2005
    /// §7.5.6).
    ///
    /// The card answers `63 Cx` (x tries left), `90 00` on some cards when the PIN is already verified, or
    /// `69 83` / `69 84` when it is blocked. Nothing is counted against the PIN. It throws nothing today; it is
    /// marked `throws` like every other builder.
    public static func verifyStatus(reference: UInt8, cla: UInt8 = 0x00) throws(ISO7816Error)
        -> CommandAPDU
    {
        try CommandAPDU(cla: cla, ins: 0x20, p1: 0x00, p2: reference)
    }

    /// CHANGE REFERENCE DATA: `00 24 P1 ref Lc [old PIN] new PIN` (ISO/IEC 7816-4:2005 §7.5.7), marked sensitive.
    ///
    /// Without `oldPIN`, P1 is `01` and the data are the new PIN alone (the My Number card, after a successful
    /// VERIFY: `00 24 01 80 Lc new-PIN`); with it, P1 is `00` and the data are the old PIN then the new one.
    ///
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` when a PIN is empty or the data exceed 255 bytes.
    public static func changeReferenceData(
        reference: UInt8, oldPIN: [UInt8]? = nil, newPIN: [UInt8], cla: UInt8 = 0x00
    ) throws(ISO7816Error) -> CommandAPDU {
        guard !newPIN.isEmpty, oldPIN?.isEmpty != true else {
            throw .invalidCommandParameter("a PIN for CHANGE REFERENCE DATA cannot be empty")
        }
        let data = (oldPIN ?? []) + newPIN
        guard data.count <= CommandAPDU.maxShortData else {
            throw .invalidCommandParameter("the PINs for CHANGE REFERENCE DATA exceed 255 bytes")
        }
        return try CommandAPDU(
            cla: cla, ins: 0x24, p1: oldPIN == nil ? 0x01 : 0x00, p2: reference, data: data,
            sensitive: true)
    }

    /// GET RESPONSE: `00 C0 00 00 Le` (ISO/IEC 7816-4:2005 §7.6.1), the command that collects the bytes a `61xx`
    /// announced. ``CardChannel`` sends it by itself; build it by hand only on a raw transport.
    ///
    /// - Parameters:
    ///   - expectedLength: How many bytes to collect, 1 to 65536 (256 for `61 00`).
    ///   - cla: The class byte; use the class of the command whose answer is being collected.
    /// - Throws: ``ISO7816Error/expectedLengthOutOfRange(_:)``.
    public static func getResponse(expectedLength: Int, cla: UInt8 = 0x00) throws(ISO7816Error)
        -> CommandAPDU
    {
        try CommandAPDU(cla: cla, ins: 0xC0, p1: 0x00, p2: 0x00, expectedLength: expectedLength)
    }

    /// GET CHALLENGE: `00 84 00 00 Le` (ISO/IEC 7816-4:2005 §7.5.3), a random number from the card.
    ///
    /// - Parameters:
    ///   - length: How many random bytes to ask for, 1 to 65536 (most cards give 8).
    ///   - cla: The class byte.
    /// - Throws: ``ISO7816Error/expectedLengthOutOfRange(_:)``.
    public static func getChallenge(length: Int, cla: UInt8 = 0x00) throws(ISO7816Error)
        -> CommandAPDU
    {
        try CommandAPDU(cla: cla, ins: 0x84, p1: 0x00, p2: 0x00, expectedLength: length)
    }

    /// INTERNAL AUTHENTICATE: `00 88 P1 P2 Lc data Le` (ISO/IEC 7816-4:2005 §7.5.2): the card computes an
    /// authentication answer (a signature or cryptogram) over a challenge with the key chosen by P1-P2 or by the
    /// current security environment.
    ///
    /// - Parameters:
    ///   - data: The challenge, 1 to 65535 bytes.
    ///   - expectedLength: The most answer bytes expected, 1 to 65536; by default 256 (Le = `00`).
    ///   - algorithm: P1, the algorithm reference (`00`: none given).
    ///   - keyReference: P2, the key reference (`00`: none given).
    ///   - cla: The class byte.
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` for empty data, or the length errors of
    ///   ``CommandAPDU/init(cla:ins:p1:p2:data:expectedLength:sensitive:)``.
    public static func internalAuthenticate(
        data: [UInt8], expectedLength: Int = 256, algorithm: UInt8 = 0x00, keyReference: UInt8 = 0x00,
        cla: UInt8 = 0x00
    ) throws(ISO7816Error) -> CommandAPDU {
        guard !data.isEmpty else {
            throw .invalidCommandParameter("INTERNAL AUTHENTICATE needs challenge data")
        }
        return try CommandAPDU(
            cla: cla, ins: 0x88, p1: algorithm, p2: keyReference, data: data,
            expectedLength: expectedLength)
    }

    /// PERFORM SECURITY OPERATION: COMPUTE DIGITAL SIGNATURE, `00 2A 9E 9A Lc data Le` (ISO/IEC 7816-8:2004,
    /// PERFORM SECURITY OPERATION), case 4.
    ///
    /// The card signs `data` (a hash, or a DigestInfo, as its security environment says) with the key selected
    /// beforehand. Cards differ in the header: the My Number card signs a DigestInfo with `80 2A 00 80`:
    ///
    /// ```swift
    /// let sign = try CommandAPDU.computeDigitalSignature(data: digestInfo, cla: 0x80, p1: 0x00, p2: 0x80)
    /// // 80 2A 00 80 Lc DigestInfo 00
    /// ```
    ///
    /// - Parameters:
    ///   - data: The data to sign, 1 to 65535 bytes.
    ///   - expectedLength: The most signature bytes expected, 1 to 65536; by default 256 (Le = `00`).
    ///   - cla: The class byte; `00` by default, `80` for the My Number card.
    ///   - p1: `9E` by default (a digital signature data object is returned).
    ///   - p2: `9A` by default (the data field holds the data to be signed).
    /// - Throws: ``ISO7816Error/invalidCommandParameter(_:)`` for empty data, or the length errors of
    ///   ``CommandAPDU/init(cla:ins:p1:p2:data:expectedLength:sensitive:)``.
    public static func computeDigitalSignature(
        data: [UInt8], expectedLength: Int = 256, cla: UInt8 = 0x00, p1: UInt8 = 0x9E, p2: UInt8 = 0x9A
    ) throws(ISO7816Error) -> CommandAPDU {
        guard !data.isEmpty else {
            throw .invalidCommandParameter("COMPUTE DIGITAL SIGNATURE needs the data to sign")
        }
        return try CommandAPDU(
            cla: cla, ins: 0x2A, p1: p1, p2: p2, data: data, expectedLength: expectedLength)
    }
}
