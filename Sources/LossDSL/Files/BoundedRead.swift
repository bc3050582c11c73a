#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole input file with a size limit checked before reading (a regular file's size
/// from fstat) and while reading (a FIFO or device stops at limit + 1 bytes), so a huge or
/// endless input costs at most `limit` bytes of memory.
public enum BoundedRead {
    public enum Failure: Error, Sendable {
        /// errno of open/read.
        case system(Int32)
        case directory
        /// The size known so far (the full size for a regular file), in bytes.
        case tooLarge(Int)
    }

    public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .system(errno) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(errno) }
        if st.st_mode & S_IFMT == S_IFDIR { throw .directory }
        if st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) > limit { throw .tooLarge(Int(st.st_size)) }
        var out: [UInt8] = []
        if st.st_mode & S_IFMT == S_IFREG { out.reserveCapacity(Int(st.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw .system(errno) }
            if n == 0 { return out }
            out += chunk[0..<n]
            if out.count > limit { throw .tooLarge(out.count) }
        }
    }
}
