// The ISO7816 article's code: a certificate read from a My Number card, the PIN tries left, BER-TLV decoded.
// A simulated card (CardSimulator) stands in for the reader, so the snippet runs without pcscd.

// snippet.hide
import CardSimulator
import Foundation
// snippet.show
// snippet.readCertificate
import ISO7816

func readAuthenticationCertificate(over connection: any CardConnection) async throws -> [UInt8] {
    let atr = try ATR(bytes: await connection.atr)
    print(atr.summary)  // "TS = 3B direct convention", …, "TCK = 14 (correct)"

    let channel = CardChannel(transport: connection)
    let jpki: [UInt8] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
    _ = try await channel.transmit(.select(aid: jpki)).successData(for: "SELECT JPKI")
    _ = try await channel.transmit(.select(fileID: 0x000A)).successData(for: "SELECT certificate")
    let certificate = try await channel.readTransparentFile()
    print(channel.statistics.apdusSent, "APDUs")
    return certificate
}
// snippet.end

// snippet.hide
let directory = FileManager.default.temporaryDirectory.appending(path: "iso7816-snippet-\(UUID().uuidString)")
let authority = try TestCertificateAuthority(directory: directory)
let card = try JPKICard.issue(by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
let slot = SimulatedSlot(name: "Simulated reader")
slot.insert(card)
let connection = try await slot.connect()
let certificate = try await readAuthenticationCertificate(over: connection)
print(certificate.count, "bytes of certificate")

// The user-authentication PIN's EF, so that the tries-left query asks about that PIN.
let channel = CardChannel(transport: connection)
_ = try await channel.transmit(.select(fileID: 0x0018)).successData(for: "SELECT PIN")

// snippet.show
// snippet.triesLeft
let answer = try await channel.transmit(.verifyStatus(reference: 0x80))
if let tries = answer.statusWord.verificationTriesLeft {
    print("\(tries) tries left")
}
// snippet.end

// snippet.hide
// EF 0002 of the text-input-support application (券面事項入力補助 AP): name, address, date of birth, sex.
let fileBytes = card.snapshot.holder.basicFourFactsFile

// snippet.show
// snippet.decodeTLV
let objects = try BERTLV.decode(fileBytes)
if let name = objects.first(0xFF20)?.first(0xDF22) {
    print(String(decoding: name.value, as: UTF8.self))
}
// snippet.end

// snippet.hide
try? FileManager.default.removeItem(at: directory)
