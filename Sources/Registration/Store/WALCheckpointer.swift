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
/// as SQLite's own would.
///
/// The checkpointer's connection reads the database once, as it must to open the log (on a connection that has not
/// read it, a checkpoint copies nothing and SQLite still answers `SQLITE_OK`). From then on it is one of the
/// connections that have the log open, until the checkpointer is released: the last of them to close, often the
/// checkpointer's, checkpoints the log and removes it.
///
/// A checkpoint that fails (the file gone, the disk full) is asked for again by the next commit past the threshold;
/// the next commit to the database, from whatever process, finds the log as SQLite left it.
final class WALCheckpointer: @unchecked Sendable {
    /// The log's size, in pages, past which a checkpoint is asked for: SQLite's default for its own.
    static let defaultThreshold: Int32 = 1_000

    private let path: String
    private let threshold: Int32
    private let queue = DispatchQueue(label: "RegistrationStore.checkpoint")
    private let lock = NSLock()
    /// Whether a checkpoint is asked for or running (under `lock`).
    private var busy = false
    /// Checkpoints that ran on the opened log and left frames of it checkpointed (under `lock`).
    private var done = 0
    /// The connection the checkpoints run on, opened by the first (only on `queue`): SQLite's own, opened to read
    /// and write an existing file only, so that a store's file removed meanwhile is never made again, empty.
    private var connection: OpaquePointer?

    init(path: String, threshold: Int32 = defaultThreshold) {
        self.path = path
        self.threshold = max(threshold, 1)
    }

    deinit {
        sqlite3_close(connection)
    }

    /// How many checkpoints on the checkpointer's connection ran on the opened log and left frames of it
    /// checkpointed (copied into the database file by this checkpoint or an earlier one since the log last started
    /// again).
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
        // Weak: a checkpoint asked for by a store's last commits does not outlive the store.
        if ask { queue.async { [weak self] in self?.checkpoint() } }
        return SQLITE_OK
    }

    private func checkpoint() {
        defer { lock.withLock { busy = false } }
        if connection == nil {
            var opened: OpaquePointer?
            guard sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else {
                // Missing or unreadable: the next commit past the threshold asks again.
                sqlite3_close(opened)
                return
            }
            connection = opened
        }
        var logged: Int32 = -1
        var copied: Int32 = -1
        var result = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied)
        if result == SQLITE_OK, logged < 0 {
            // A connection that has not read the database yet has not opened its log either: SQLite then answers
            // SQLITE_OK without copying a page (and -1 for the log's size). One read opens it for good.
            _ = sqlite3_exec(connection, "SELECT 1 FROM sqlite_master LIMIT 1", nil, nil, nil)
            result = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied)
        }
        switch result {
        case SQLITE_OK:
            if copied > 0 { lock.withLock { done += 1 } }
        case SQLITE_BUSY:
            // Another checkpoint ran (a commit's own, or another process's): the connection stays.
            break
        default:
            // Opened again by the next checkpoint.
            sqlite3_close(connection)
            connection = nil
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
