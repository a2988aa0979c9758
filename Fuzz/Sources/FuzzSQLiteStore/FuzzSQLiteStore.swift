// The SQLite store's row decoding: the fuzz bytes are written as a database file (the seeds are real databases the
// store wrote), which SQLiteRegistrationStore opens (and migrates) and reads back — registrations, users,
// bindings, history and the outbox. Errors are expected; a trap is a bug.
import Foundation
import FuzzSupport
import Registration

/// This process's scratch directory (targets may run side by side).
let directory: URL = {
    let url = FileManager.default.temporaryDirectory.appending(path: "FuzzSQLiteStore-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let file = directory.appending(path: "store.sqlite")
    let paths = [file.path, file.path + "-wal", file.path + "-shm", file.path + "-journal"]
    for path in paths { try? FileManager.default.removeItem(atPath: path) }
    defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
    guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes: start, count: count)) else {
        return 0
    }
    runBlocking {
        do {
            let store = try SQLiteRegistrationStore(path: file.path)
            for registration in try await store.registrations() {
                _ = try? await store.registration(registration.id)
                _ = try? await store.history(of: registration.id)
                for user in registration.users { _ = try? await store.registration(ofUser: user.id) }
                for binding in registration.bindings {
                    _ = try? await store.registration(boundTo: binding.fingerprint)
                }
            }
            for message in try await store.outbox(state: nil) { _ = message.id }
        } catch {
            _ = "\(error)"
        }
    }
    return 0
}
