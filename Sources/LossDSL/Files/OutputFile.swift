#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed write: `cannot write 'PATH': <strerror>`.
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let code: Int32
    public init(path: String, code: Int32) { self.path = path; self.code = code }
    public var reason: String { String(cString: strerror(code)) }
    public var description: String { "cannot write '\(path)': \(reason)" }
}

/// The one way lossc writes an output file (every `-o`, `fmt --write`, `emit`, `build`,
/// `--header`, checkpoints, the native cache).
///
/// - A regular file (or a new one) is replaced atomically: the bytes go to an exclusively
///   created temporary file in the target's own directory (`mkstemp`, so a planted symlink is
///   never followed), which is fsynced, given the old file's mode (a new file gets
///   `mode & ~umask`) and renamed over the target. A symlink is followed: its target is
///   replaced, the link stays. A file with several hard links is rewritten in place after the
///   complete temporary copy was written, so the links keep sharing it.
/// - A device, FIFO or socket (`/dev/null`, `/dev/full`, `/dev/stdout`, a named pipe), and any
///   path under `/dev/` or `/proc/`, is written in place: never replaced by a regular file.
/// - `-` is standard output.
///
/// Every write, flush, fsync and close is checked; the first failure is kept and `commit()`
/// throws it, leaving a replaced target untouched.
public final class OutputFile {
    public let path: String
    private enum Mode { case inPlace, staged(temp: String, final: String, mode: mode_t, owner: (uid_t, gid_t)?, links: Int) }
    private var mode: Mode
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var failure: Int32 = 0
    private var done = false

    /// Opens `path` for writing (see the type's notes). `newFileMode` is the mode a file that
    /// does not exist yet gets before the umask (0o777 for a shared library).
    public init(_ path: String, newFileMode: mode_t = 0o666) throws(OutputError) {
        self.path = path
        if path == "-" { mode = .inPlace; fd = 1; return }
        if path.isEmpty { throw OutputError(path: path, code: ENOENT) }
        var st = stat()
        if stat(path, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR { throw OutputError(path: path, code: EISDIR) }
            if type != S_IFREG || path.hasPrefix("/dev/") || path.hasPrefix("/proc/") {
                let f = open(path, O_WRONLY | O_CLOEXEC | (type == S_IFREG ? O_TRUNC : 0))
                if f < 0 { throw OutputError(path: path, code: errno) }
                mode = .inPlace; fd = f; return
            }
        } else if errno != ENOENT {
            throw OutputError(path: path, code: errno)
        }
        let final = OutputFile.resolveLinks(path)
        var old = stat()
        let exists = lstat(final, &old) == 0
        let fileMode: mode_t
        if exists { fileMode = old.st_mode & 0o7777 } else {
            let mask = umask(0); umask(mask)
            fileMode = newFileMode & ~mask
        }
        var template = Array((OutputFile.directory(of: final) + "/.lossc-XXXXXX.tmp").utf8CString)
        let f = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        if f < 0 { throw OutputError(path: path, code: errno) }
        _ = fcntl(f, F_SETFD, FD_CLOEXEC)
        let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        fd = f
        mode = .staged(temp: temp, final: final, mode: fileMode, owner: exists ? (old.st_uid, old.st_gid) : nil,
                       links: exists ? Int(old.st_nlink) : 1)
    }

    deinit { if !done { abandon() } }

    /// Appends text (buffered; errors are kept for `commit`).
    public func write(_ s: String) {
        var s = s
        s.withUTF8 { write(bytes: UnsafeRawBufferPointer($0)) }
    }

    public func write(bytes: UnsafeRawBufferPointer) {
        guard failure == 0 else { return }
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    public func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write(bytes: $0) } }

    private func flush() {
        guard failure == 0 else { buffer.removeAll(); return }
        if let e = OutputFile.writeFully(fd, buffer) { failure = e }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes every byte of `bytes` to the descriptor `fd`, retrying short writes and EINTR; the errno of a failure.
    public static func writeFully(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { p -> Int32? in
            var off = 0
            while off < p.count {
                let n = Glibc.write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 { if errno == EINTR { continue }; return errno }
                if n == 0 { return EIO }
                off += n
            }
            return nil
        }
    }

    /// Flushes and installs the file; throws the first error (and then removes the temporary file).
    public func commit() throws(OutputError) {
        try prepare()
        try install()
    }

    /// Everything but the rename: flush, mode, fsync, close.
    func prepare() throws(OutputError) {
        flush()
        if case .staged(_, _, let m, let owner, _) = mode, failure == 0 {
            if let (u, g) = owner { _ = fchown(fd, u, g) }
            if fchmod(fd, m) != 0 { failure = errno }
        }
        if failure == 0, fsync(fd) != 0, errno != EINVAL, errno != EROFS { failure = errno }
        if fd != 1 {
            if close(fd) != 0, failure == 0, errno != EINTR { failure = errno }
            fd = -1
        }
        if failure != 0 { abandon(); throw OutputError(path: path, code: failure) }
    }

    /// The rename (or, for a hard-linked target, the in-place copy).
    func install() throws(OutputError) {
        done = true
        guard case .staged(let temp, let final, _, _, let links) = mode else { return }
        if links > 1 {
            defer { unlink(temp) }
            if let e = OutputFile.copy(from: temp, to: final) { throw OutputError(path: path, code: e) }
            return
        }
        if rename(temp, final) != 0 { let e = errno; unlink(temp); throw OutputError(path: path, code: e) }
        let dir = open(OutputFile.directory(of: final), O_RDONLY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// Drops the output: the temporary file is removed, the target never touched.
    public func abandon() {
        done = true
        if fd > 2 { close(fd) }
        fd = -1
        if case .staged(let temp, _, _, _, _) = mode { unlink(temp) }
    }

    /// Writes `bytes` to `path` (see the type's notes).
    public static func write(_ path: String, _ bytes: [UInt8], newFileMode: mode_t = 0o666) throws(OutputError) {
        try writeAll([(path, bytes)], newFileMode: newFileMode)
    }

    public static func write(_ path: String, _ text: String) throws(OutputError) { try write(path, Array(text.utf8)) }

    /// Writes several files all or nothing: every file is complete on disk before the first
    /// rename; if a rename fails, the targets already replaced get their old contents back
    /// (kept as hard links until the end) and new ones are removed.
    public static func writeAll(_ files: [(path: String, bytes: [UInt8])], newFileMode: mode_t = 0o666) throws(OutputError) {
        var outs: [OutputFile] = []
        for f in files { outs.append(try OutputFile(f.path, newFileMode: newFileMode)) }
        for (o, f) in zip(outs, files) { o.write(f.bytes) }
        for (i, o) in outs.enumerated() {
            do { try o.prepare() } catch { for p in outs[(i + 1)...] { p.abandon() }; throw error }
        }
        if outs.count == 1 { return try outs[0].install() }
        // Keep the old contents reachable until every rename succeeded.
        var backups: [(final: String, backup: String?)] = []
        for o in outs {
            guard case .staged(_, let final, _, _, _) = o.mode else { backups.append(("", nil)); continue }
            var b: String? = nil
            for attempt in 0..<100 {
                let name = directory(of: final) + "/.lossc-old-\(getpid())-\(attempt).tmp"
                if link(final, name) == 0 { b = name; break }
                if errno != EEXIST { break }
            }
            backups.append((final, b))
        }
        defer { for b in backups { if let x = b.backup { unlink(x) } } }
        for (i, o) in outs.enumerated() {
            do { try o.install() } catch {
                for j in 0..<i {
                    let (final, backup) = backups[j]
                    if final.isEmpty { continue }
                    if let backup { _ = rename(backup, final) } else { unlink(final) }
                }
                for p in outs[(i + 1)...] { p.abandon() }
                throw error
            }
        }
    }

    /// Copies the file `from` over `to` in place (truncate, write, fsync); the errno of a failure.
    static func copy(from: String, to: String) -> Int32? {
        let src = open(from, O_RDONLY | O_CLOEXEC)
        if src < 0 { return errno }
        defer { close(src) }
        let dst = open(to, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if dst < 0 { return errno }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(src, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; let e = errno; close(dst); return e }
            if n == 0 { break }
            if let e = writeFully(dst, Array(chunk[0..<n])) { close(dst); return e }
        }
        if fsync(dst) != 0, errno != EINVAL { let e = errno; close(dst); return e }
        return close(dst) != 0 ? errno : nil
    }

    /// The path a chain of symlinks ends at (the path itself when it is not a link).
    static func resolveLinks(_ path: String) -> String {
        var cur = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(cur, &st) == 0, st.st_mode & S_IFMT == S_IFLNK else { return cur }
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(cur, &buf, buf.count - 1)
            guard n > 0 else { return cur }
            let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            cur = target.hasPrefix("/") ? target : directory(of: cur) + "/" + target
        }
        return cur
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
