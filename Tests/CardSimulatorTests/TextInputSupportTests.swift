import CardSimulator
import ISO7816
import Testing

@Suite struct TextInputSupportTests {
    @Test func encodesTheBasicFourFactsLikeTheKnownVector() throws {
        // The synthetic vector from JPKI.md (soltia48/myna-card): re-encoding its fields must give its bytes.
        let vector = try Hex.decode(
            "ff2065df2108000e002000590064df220fe9bb92e6a190e38080e5b9b9e4b99fdf2336e69db1e4baace983bde6b885e780ace5b882"
                + "e8a6b3e5b883e5ad90e58d97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92df24083139383030323137df250131"
        )
        let name = String(decoding: vector[17..<32], as: UTF8.self)
        let address = String(decoding: vector[35..<89], as: UTF8.self)
        let holder = JPKIHolder(
            individualNumber: "123456789018", name: name, address: address, dateOfBirth: "19800217", sex: .male,
            prefecture: "", city: "")
        #expect(holder.basicFourFactsFile == vector)
    }

    @Test func longAddressesUseTwoByteLengths() {
        var holder = JPKIHolder.example
        holder.address = String(repeating: "東", count: 60)  // 180 bytes
        let file = holder.basicFourFactsFile
        #expect(file[0...2] == [0xFF, 0x20, 0x81])
        #expect(Int(file[3]) == file.count - 4)
        // The offsets point at the tags.
        let offsets = (0..<4).map { Int(file[7 + 2 * $0]) << 8 | Int(file[8 + 2 * $0]) }
        #expect(offsets.map { file[$0 + 1] } == [0x22, 0x23, 0x24, 0x25])
        #expect(offsets.allSatisfy { file[$0] == 0xDF })
    }

    @Test func individualNumberNeedsThePIN() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(try card.sw(textSupportSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 01") == 0x9000)
        #expect(try card.sw("00 B0 00 00 00") == 0x6982)
        #expect(try card.sw("00 A4 02 0C 02 00 11") == 0x9000)
        #expect(try card.sw("00 20 00 80") == 0x63C3)
        #expect(try card.sw("00 20 00 80 04 \(ascii("0000"))") == 0x63C2)
        #expect(card.triesLeft(.textInputSupport) == 2)
        #expect(card.triesLeft(.authentication) == 3)
        #expect(try card.sw("00 20 00 80 04 \(ascii(Fixture.authenticationPIN))") == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 01") == 0x9000)
        let number = try card.send("00 B0 00 00 11")
        #expect(number.isSuccess)
        #expect(number.data == [0xFF, 0x10, 0x0C] + Array("123456789018".utf8) + [0xFF, 0xFF])
        #expect(try card.sw("00 A4 02 0C 02 00 02") == 0x9000)
        let facts = try card.send("00 B0 00 00 00")
        #expect(facts.data == JPKIHolder.example.basicFourFactsFile)
        // The JPKI application's files are not here, and its PINs do not carry over.
        #expect(try card.sw("00 A4 02 0C 02 00 0A") == 0x6A82)
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(!card.isVerified(.textInputSupport))
    }
}
