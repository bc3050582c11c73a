import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One run of an external evaluator command, with the guarantees a search needs:
/// - `/bin/sh -c COMMAND` starts in a process group of its own, stdin on /dev/null, stdout and
///   stderr to files in its directory, and no other inherited descriptor (closefrom 3), so no
///   descendant holds anything of ours open;
/// - the result is the shell's exit status (waitpid), not end of file: a background child
///   that lives on cannot delay it; when the shell exits, what is left of its group is killed;
/// - at the timeout the whole group is killed (SIGKILL);
/// - on SIGINT/SIGTERM of lossc (`Interruption`), the signal is forwarded to the group, which
///   gets two seconds before SIGKILL, and is reaped;
/// - only the last 64 KiB of stdout are read (the fitness is the last number printed).
enum EvaluatorProcess {
    enum Outcome { case exited(String), failed(String) }

    static let tailBytes = 64 << 10

    static func run(_ command: String, in dir: String, environment extra: [String: String], timeout: TimeInterval) -> Outcome {
        let outPath = dir + "/stdout.txt", errPath = dir + "/stderr.txt"
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        let pid: pid_t
        switch spawn(["/bin/sh", "-c", command], dir: dir, stdout: outPath, stderr: errPath, environment: env) {
        case .failure(let e): return .failed("cannot start the evaluator: \(String(cString: strerror(e.code)))")
        case .success(let p): pid = p
        }
        Interruption.register(pid)
        defer { Interruption.unregister(pid) }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var pause: useconds_t = 1_000
        var forwarded: (signal: Int32, at: Date)? = nil
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0, errno != EINTR { return .failed("lost the evaluator process: \(String(cString: strerror(errno)))") }
            let now = Date()
            if let sig = Interruption.requested, forwarded == nil {
                kill(-pid, sig)
                forwarded = (sig, now)
            }
            if let f = forwarded, now.timeIntervalSince(f.at) > 2 { kill(-pid, SIGKILL) }
            if forwarded == nil, now >= deadline {
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return .failed("timed out after \(formatSeconds(timeout))")
            }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
        // Leftovers of the shell's group (background jobs it did not wait for) go with it.
        kill(-pid, SIGKILL)
        if let f = forwarded { return .failed("interrupted (signal \(f.signal))") }
        let exited = status & 0x7f == 0
        if !exited { return .failed("killed by signal \(status & 0x7f)") }
        let code = (status >> 8) & 0xff
        if code != 0 { return .failed("exit status \(code)") }
        return .exited(tail(outPath, tailBytes))
    }

    /// The last `n` bytes of a file, as text ("" when unreadable).
    static func tail(_ path: String, _ n: Int) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return "" }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        let start = max(0, Int(size) - n)
        lseek(fd, off_t(start), SEEK_SET)
        var buf = [UInt8](repeating: 0, count: Int(size) - start)
        var got = 0
        while got < buf.count {
            let r = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
            if r < 0, errno == EINTR { continue }
            if r <= 0 { break }
            got += r
        }
        // Drop a partial first line: the cut may split a number.
        var text = String(decoding: buf[0..<got], as: UTF8.self)
        if start > 0, let nl = text.firstIndex(of: "\n") { text = String(text[text.index(after: nl)...]) }
        return text
    }

    struct SpawnError: Error { let code: Int32 }

    static func spawn(_ argv: [String], dir: String, stdout: String, stderr: String, environment: [String: String]) -> Result<pid_t, SpawnError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let closeFrom = GNUSpawn.addCloseFrom { _ = closeFrom(&actions, 3) } else { GNUSpawn.markAllCloseOnExec() }
        guard let chdir = GNUSpawn.addChdir else { return .failure(SpawnError(code: ENOSYS)) }
        _ = dir.withCString { chdir(&actions, $0) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setpgroup(&attr, 0)
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        // lossc ignores SIGPIPE/SIGXFSZ and catches SIGINT/SIGTERM; the evaluator starts with defaults.
        for s in [SIGPIPE, SIGXFSZ, SIGINT, SIGTERM, SIGQUIT, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, argv[0], &actions, &attr, cArgs, cEnv)
        return r == 0 ? .success(pid) : .failure(SpawnError(code: r))
    }
}

/// The glibc extensions of posix_spawn (2.29+, 2.34+), looked up at run time: the Swift Glibc
/// module does not declare them.
enum GNUSpawn {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias Chdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    static let addCloseFrom: CloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    static let addChdir: Chdir? = symbol("posix_spawn_file_actions_addchdir_np")

    static func symbol<F>(_ name: String) -> F? {
        guard let p = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(p, to: F.self)
    }

    /// Without closefrom: every open descriptor above 2 gets FD_CLOEXEC.
    static func markAllCloseOnExec() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
    }
}

/// SIGINT/SIGTERM during a search: the handler only records the signal; evaluators forward it
/// to their process groups and return, and the search stops before recording the generation
/// in flight (the checkpoint keeps the last complete one), so `--resume` continues exactly.
public enum Interruption {
    nonisolated(unsafe) static var signalNumber: Int32 = 0
    nonisolated(unsafe) static var running = Set<pid_t>()
    static let lock = NSLock()

    /// The signal received, if any.
    public static var requested: Int32? { signalNumber == 0 ? nil : signalNumber }

    /// Installs the handlers (idempotent).
    public static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM] {
            signal(s) { sig in Interruption.signalNumber = sig }
            sigaddset(&set, s)
        }
        // A parent may have started lossc with these blocked (the mask is inherited).
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static func register(_ pid: pid_t) { lock.lock(); running.insert(pid); lock.unlock() }
    static func unregister(_ pid: pid_t) { lock.lock(); running.remove(pid); lock.unlock() }
}
