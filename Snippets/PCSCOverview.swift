// The PCSC article's code: readers listed, a SELECT inside a transaction, reader events watched, and a loop of
// commands run on the context's own thread. It needs pcscd; with no card in any reader it only lists and watches.
// With `--vpcd` the run first serves a simulated My Number card in the reader "Virtual PCD 00 00".

// snippet.hide
import CardSimulator
import Foundation
// snippet.show
// snippet.connect
import ISO7816
import PCSC

// snippet.hide
let directory = FileManager.default.temporaryDirectory.appending(path: "pcsc-snippet-\(UUID().uuidString)")
let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
if CommandLine.arguments.contains("--vpcd") {
    let authority = try TestCertificateAuthority(directory: directory)
    try await server.insert(
        try JPKICard.issue(by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234"))
    _ = try await PCSCContext().slot(named: "Virtual PCD 00 00").waitForCard(timeout: .seconds(10))
}
// snippet.show
let context = try PCSCContext()
for reader in try await context.readerStatuses() where reader.isCardPresent {
    let card = try await context.connect(to: reader.name)
    let channel = CardChannel(transport: card)
    let answer = try await card.withTransaction { _ in
        try await channel.transmit(
            CommandAPDU.select(aid: [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]))
    }
    print(reader.name, answer.statusWord)
    await card.disconnect()
}
// snippet.end

// snippet.hide
// The watch below runs until its task is cancelled; here, after a second.
let watcher = Task {
    // snippet.show
    // snippet.events
    for try await event in ReaderEvents() {
        print(event)  // "card inserted: Virtual PCD 00 00 (ATR 3B E0 00 FF 81 31 FE 45 14)"
    }
    // snippet.end
    // snippet.hide
}
try await Task.sleep(for: .seconds(1))
watcher.cancel()
_ = await watcher.result

let commands = [
    try CommandAPDU.select(aid: [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]),
    try CommandAPDU.select(fileID: 0x000A),
    try CommandAPDU.readBinary(expectedLength: 4),
]
if let reader = try await context.readerStatuses().first(where: \.isCardPresent) {
    let card = try await context.connect(to: reader.name)
    let channel = CardChannel(transport: card)
    // snippet.show
    // snippet.executorPreference
    try await withTaskExecutorPreference(context.thread) {
        for command in commands { _ = try await channel.transmit(command) }  // no thread switch per APDU
    }
    // snippet.end
    // snippet.hide
    await card.disconnect()
}
await server.remove()
try? FileManager.default.removeItem(at: directory)
