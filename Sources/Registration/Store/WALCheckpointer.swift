import Foundation
import GRDB
import GRDBSQLite

/// The checkpoints of an SQLite store's write-ahead log, run beside the commits instead of in one of them.
///
/// SQLite's automatic checkpoint runs in the commit that takes the log past 1,000 pages: that commit copies the
/// log's pages into the database file and waits for the disk (the other commits do not wait for it, WAL with
/// `synchronous = NORMAL`). Measured with store-benchmark, it was the commits' p99: 4–8 ms against a p50 of 0.4 ms.
/// As SQLite's documentation suggests for programs that cannot afford that pause, the checkpointer takes the
/// automatic checkpoint's place, the log hook (`sqlite3_wal_hook`) of the writing connection: past the threshold,
/// the hook only asks for a checkpoint, which a thread of its own runs on a connection of its own, `PASSIVE` (it
/// never waits for the writer or the readers, and copies what it can).
///
/// Should the log still reach ten times the threshold (checkpoints that cannot keep up), the commit runs one itself,
/// as SQLite's own would. A checkpoint that fails (the file gone, the disk full) is asked for again by the next commit
/// past the threshold; the next commit to the database, from whatever process, finds the log as SQLite left it.
final class WALCheckpointer: @unchecked Sendable {
    /// The log's size, in pages, past which a checkpoint is asked for: SQLite's default for its own.
    static let defaultThreshold: Int32 = 1_000

    private let path: String
    private let threshold: Int32
    private let queue = DispatchQueue(label: "RegistrationStore.checkpoint")
    private let lock = NSLock()
    /// Whether a checkpoint is asked for or running (under `lock`).
    private var busy = false
    /// Checkpoints done (under `lock`).
    private var done = 0
    /// The connection the checkpoints run on, opened by the first (only on `queue`).
    private var connection: DatabaseQueue?

    init(path: String, threshold: Int32 = defaultThreshold) {
        self.path = path
        self.threshold = max(threshold, 1)
    }

    /// How many checkpoints have run on the checkpointer's connection.
    var checkpoints: Int { lock.withLock { done } }

    /// Makes `db`'s commits tell the checkpointer how long the log is, in place of SQLite's automatic checkpoint.
    /// Read-only connections never commit and are left alone.
    func install(on db: Database) {
        guard !db.configuration.readonly, let connection = db.sqliteConnection else { return }
        _ = sqlite3_wal_hook(connection, walHook, Unmanaged.passUnretained(self).toOpaque())
    }

    /// After a commit of `db` that left `pages` pages in the log (on the committing thread, the write lock
    /// released).
    fileprivate func committed(_ db: OpaquePointer?, pages: Int32) -> Int32 {
        guard pages >= threshold else { return SQLITE_OK }
        if pages / 10 >= threshold {
            // The checkpoints fell behind: this commit takes its turn, as the automatic checkpoint would.
            _ = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return SQLITE_OK
        }
        let ask = lock.withLock {
            defer { busy = true }
            return !busy
        }
        if ask { queue.async { self.checkpoint() } }
        return SQLITE_OK
    }

    private func checkpoint() {
        do {
            if connection == nil {
                // Never a new, empty database where the store's file was removed meanwhile.
                guard FileManager.default.fileExists(atPath: path) else {
                    lock.withLock { busy = false }
                    return
                }
                var configuration = Configuration()
                configuration.label = "RegistrationStore.checkpoint"
                configuration.foreignKeysEnabled = false
                connection = try DatabaseQueue(path: path, configuration: configuration)
            }
            _ = try connection?.writeWithoutTransaction { try $0.checkpoint(.passive) }
            lock.withLock {
                done += 1
                busy = false
            }
        } catch {
            // Opened again by the next checkpoint; the next commit past the threshold asks for it.
            connection = nil
            lock.withLock { busy = false }
        }
    }
}

/// The log hook: SQLite's C callback, its context the checkpointer (kept alive by the configuration of the pool that
/// owns the connection).
private func walHook(
    _ context: UnsafeMutableRawPointer?, _ db: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ pages: Int32
) -> Int32 {
    guard let context else { return SQLITE_OK }
    return Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(db, pages: pages)
}
