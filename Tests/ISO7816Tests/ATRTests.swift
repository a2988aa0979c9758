import ISO7816
import Testing

@Suite("Answer to reset")
struct ATRTests {
    @Test("JPKI: 3B E0 00 FF 81 31 FE 45 14")
    func jpki() throws {
        let atr = try ATR(bytes: hex("3B E0 00 FF 81 31 FE 45 14"))
        #expect(atr.convention == .direct)
        #expect(atr.formatByte == 0xE0)
        #expect(atr.historicalBytes.isEmpty)
        #expect(atr.interfaceBytes.count == 3)
        let group1 = try #require(atr.interfaceBytes.first)
        #expect(group1.index == 1)
        #expect(group1.protocolType == nil)
        #expect(group1.ta == nil)
        #expect(group1.tb == 0x00)
        #expect(group1.tc == 0xFF)
        #expect(group1.td == 0x81)
        #expect(atr.interfaceBytes[1].protocolType == 1)
        #expect(atr.interfaceBytes[1].td == 0x31)
        #expect(atr.interfaceBytes[1].ta == nil)
        #expect(atr.interfaceBytes[2].ta == 0xFE)
        #expect(atr.interfaceBytes[2].tb == 0x45)
        #expect(atr.interfaceBytes[2].protocolType == 1)
        #expect(atr.protocols == [1])
        #expect(atr.transmissionProtocols == [.t1])
        #expect(!atr.indicatesGlobalInterfaceBytes)
        #expect(atr.checksum == .valid(0x14))
        #expect(atr.ta1 == nil)
        #expect(atr.clockRateConversion == nil)
        #expect(atr.baudRateAdjustment == nil)
        #expect(atr.description == "3B E0 00 FF 81 31 FE 45 14")

        let lines = atr.summary.split(separator: "\n").map(String.init)
        #expect(lines.first == "TS = 3B direct convention")
        #expect(lines.contains("T0 = E0: TB1 TC1 TD1 present, 0 historical bytes"))
        #expect(lines.contains("TD1 = 81: protocol T=1, next TD2"))
        #expect(lines.contains("TA3 = FE: T=1 IFSC = 254 bytes"))
        #expect(lines.contains("TB3 = 45: T=1 BWI = 4, CWI = 5"))
        #expect(lines.contains("protocols: T=1"))
        #expect(lines.contains("historical bytes: none"))
        #expect(lines.last == "TCK = 14 (correct)")
    }

    @Test("Another My Number card: 3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B")
    func myNumberOther() throws {
        let atr = try ATR(bytes: hex("3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B"))
        #expect(atr.ta1 == 0x13)
        #expect(atr.clockRateConversion == 372)
        #expect(atr.maximumClockFrequencyKHz == 5000)
        #expect(atr.baudRateAdjustment == 4)
        #expect(atr.interfaceBytes.first?.tb == nil)
        #expect(atr.interfaceBytes.first?.tc == 0xFF)
        #expect(atr.historicalBytes == (try hex("80 12 39 2F 31 C1 73 C6 01 C0")))
        #expect(atr.protocols == [1])
        #expect(atr.checksum == .valid(0x3B))
        #expect(atr.summary.contains("TA1 = 13: Fi = 372, f(max) = 5.0 MHz, Di = 4"))
        #expect(atr.summary.contains("historical bytes: 80 12 39 2F 31 C1 73 C6 01 C0 (category 80"))
    }

    @Test("T=0 only: 3B 02 14 50, no TD1 and no TCK")
    func t0Only() throws {
        let atr = try ATR(bytes: hex("3B 02 14 50"))
        #expect(atr.interfaceBytes.isEmpty)
        #expect(atr.historicalBytes == [0x14, 0x50])
        #expect(atr.protocols == [0])
        #expect(atr.transmissionProtocols == [.t0])
        #expect(atr.checksum == .absent)
        #expect(atr.summary.contains("protocols: T=0 (no TD1: T=0 by default)"))
        #expect(atr.summary.contains("TCK absent"))
        #expect(atr.summary.contains("T0 = 02: no interface bytes, 2 historical bytes"))
    }

    @Test("YubiKey: all of TA1 to TD1 and ASCII historical bytes")
    func yubiKey() throws {
        let atr = try ATR(bytes: hex("3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4"))
        #expect(atr.interfaceBytes.first?.ta == 0x13)
        #expect(atr.interfaceBytes.first?.tb == 0x00)
        #expect(atr.interfaceBytes.first?.tc == 0x00)
        #expect(atr.historicalBytes == Array("Yubikey4".utf8))
        #expect(atr.protocols == [1])
        #expect(atr.checksum == .valid(0xD4))
        #expect(atr.summary.contains("historical bytes: 59 75 62 69 6B 65 79 34 (\"Yubikey4\")"))
        #expect(atr.summary.contains("TC1 = 00: extra guard time N = 0 etu"))
    }

    @Test("T=0 and T=1 offered, with T=15 global bytes")
    func severalProtocols() throws {
        // TD1 = 80 (TD2, T=0), TD2 = 81 (TD3, T=1), TD3 = 1F (TA4, T=15), TA4 = 03, no historical bytes.
        var bytes = try hex("3B 80 80 81 1F 03")
        bytes.append(bytes[1...].reduce(0, ^))
        let atr = try ATR(bytes: bytes)
        #expect(atr.protocols == [0, 1])
        #expect(atr.transmissionProtocols == [.t0, .t1])
        #expect(atr.indicatesGlobalInterfaceBytes)
        #expect(atr.interfaceBytes.last?.protocolType == 15)
        #expect(atr.interfaceBytes.last?.ta == 0x03)
        #expect(atr.summary.contains("TD3 = 1F: T=15 (global interface bytes follow), next TA4"))
        #expect(atr.summary.contains("TA4 = 03: clock stop not supported, class indicator 03"))
        #expect(atr.summary.contains("protocols: T=0, T=1; T=15 global interface bytes"))
        if case .valid = atr.checksum {} else { Issue.record("TCK should be valid") }
    }

    @Test("Specific mode TA2 and the T=0 waiting time TC2")
    func secondGroup() throws {
        let atr = try ATR(bytes: hex("3B 80 50 80 0A"))
        #expect(atr.protocols == [0])
        #expect(atr.checksum == .absent)
        #expect(atr.interfaceBytes[1].ta == 0x80)
        #expect(atr.interfaceBytes[1].tc == 0x0A)
        #expect(
            atr.summary.contains(
                "TA2 = 80: specific mode, protocol T=0, mode cannot change, Fi/Di from TA1"))
        #expect(atr.summary.contains("TC2 = 0A: T=0 waiting time integer WI = 10"))
        #expect(atr.summary.contains("TD1 = 50: protocol T=0, next TA2 TC2"))
    }

    @Test("Inverse convention")
    func inverse() throws {
        let atr = try ATR(bytes: hex("3F 00"))
        #expect(atr.convention == .inverse)
        #expect(atr.summary.hasPrefix("TS = 3F inverse convention"))
    }

    @Test("A wrong TCK is reported, not thrown")
    func badTCK() throws {
        let atr = try ATR(bytes: hex("3B E0 00 FF 81 31 FE 45 15"))
        #expect(atr.checksum == .invalid(0x15, expected: 0x14))
        #expect(atr.summary.hasSuffix("TCK = 15 (wrong: expected 14)"))
    }

    @Test(
        "Malformed and truncated ATRs throw malformedATR",
        arguments: [
            ("", "empty"),
            ("3A 00", "TS is 3A"),
            ("3B", "T0 is missing"),
            ("3B E0 00 FF", "TD1 is announced"),
            ("3B E0 00 FF 81", "TD2 is announced"),
            ("3B E0 00 FF 81 31 FE", "TB3 is announced"),
            ("3B E0 00 FF 81 31 FE 45", "TCK is missing"),
            ("3B 02 14", "2 historical bytes but only 1"),
            ("3B 02 14 50 00", "1 unexpected byte follows"),
            ("3B E0 00 FF 81 31 FE 45 14 00 00", "2 unexpected bytes follow"),
            (
                "3B 0F" + String(repeating: " 41", count: 15) + String(repeating: " 00", count: 17),
                "at most 33"
            ),
        ] as [(String, String)])
    func malformed(text: String, reason: String) throws {
        let bytes = try hex(text)
        let error = #expect(throws: ISO7816Error.self) { try ATR(bytes: bytes) }
        guard case .malformedATR(let why) = error else {
            Issue.record("expected malformedATR, got \(String(describing: error))")
            return
        }
        #expect(why.contains(reason), "\(why)")
    }

    @Test("Fi and Di tables, reserved values give nil")
    func fiDi() throws {
        let fast = try ATR(bytes: hex("3B 10 96"))  // TA1 = 96: Fi 512, Di 32
        #expect(fast.clockRateConversion == 512)
        #expect(fast.baudRateAdjustment == 32)
        #expect(fast.maximumClockFrequencyKHz == 5000)
        let reserved = try ATR(bytes: hex("3B 10 70"))  // Fi index 7 and Di index 0 are reserved
        #expect(reserved.clockRateConversion == nil)
        #expect(reserved.baudRateAdjustment == nil)
        #expect(reserved.summary.contains("Fi reserved, Di reserved"))
    }
}
