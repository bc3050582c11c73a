import Foundation
import LossDSL
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a checkpoint, held until the process exits: a second `lossc search`
/// (or `ask`/`tell`, or `search-params`) on the same checkpoint is refused with a clear
/// error instead of both runs writing it and one being lost. `flock` on a `.lock` file beside
/// the state; the kernel drops it when the holder dies (kill -9 included), so a lock is never stale.
public final class CheckpointLock: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    /// Locks `path` (created if needed); throws when another process holds it.
    public init(_ path: String) throws {
        self.path = path
        let f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if f < 0 { throw SearchError.checkpoint("cannot lock \(path): \(String(cString: strerror(errno)))") }
        if flock(f, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var owner = ""
            var buf = [UInt8](repeating: 0, count: 32)
            let n = read(f, &buf, 31)
            if n > 0, let pid = Int(String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) { owner = " (pid \(pid))" }
            close(f)
            if e == EWOULDBLOCK {
                throw SearchError.checkpoint("\(path): the checkpoint is in use by another lossc process\(owner); wait for it to finish, or choose another checkpoint")
            }
            throw SearchError.checkpoint("cannot lock \(path): \(String(cString: strerror(e)))")
        }
        _ = ftruncate(f, 0)
        _ = OutputFile.writeFully(f, Array("\(getpid())\n".utf8))
        fd = f
    }

    deinit { close(fd) }

    /// Removes temporary files that a killed writer left in `dir` (`OutputFile`'s `.lossc-*`
    /// and Foundation's `*.nosync*`); call with the lock held, so no live writer owns them.
    public static func removeStaleTemporaries(in dir: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        where (name.hasPrefix(".lossc-") && name.hasSuffix(".tmp")) || name.contains(".nosync") {
            unlink(dir + "/" + name)
        }
    }
}
