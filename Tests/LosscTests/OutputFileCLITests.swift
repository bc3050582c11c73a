import Foundation
import Testing

/// Class 1 of the hardening issue: every command that writes a file (`-o`, `fmt --write`,
/// `emit -o`, `build -o/--header`) goes through one writer that replaces regular files
/// atomically, follows symlinks, keeps the mode and hard links, writes devices and FIFOs in
/// place, and reports every failed write with exit 2, leaving the target untouched.
struct OutputFileCLITests {
    /// A fresh directory for one test.
    static func dir(_ tag: String) throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-out-\(tag)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: d)
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    static func contents(_ p: String) -> String? { FileManager.default.contents(atPath: p).map { String(decoding: $0, as: UTF8.self) } }
    static func leftovers(_ d: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).filter { $0.hasPrefix(".") }
    }

    /// Runs lossc through `bash -c SCRIPT` where "$0" "$@" is lossc and its arguments.
    static func shell(_ script: String, _ args: [String]) throws -> CLI.Result {
        try CLI.run(args, via: ["/bin/bash", "-c", script])
    }

    /// Every writing command, aimed at a device that refuses bytes: exit 2 and the errno named.
    @Test func writesToAFullDeviceFailWithExitTwo() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let data = try CLI.temp("full.csv", "x,y\n0.5,1\n")
        let commands: [[String]] = [
            ["eval", "examples/focal.loss", "--data", data, "-o", "/dev/full"],
            ["emit", "examples/focal.loss", "-o", "/dev/full"],
            ["emit", "examples/focal.loss", "--target", "swift", "-o", "/dev/full"],
            ["plot", "examples/focal.loss", "-o", "/dev/full"],
            ["graph", "examples/focal.loss", "-o", "/dev/full"],
        ]
        for c in commands {
            let r = try CLI.run(c)
            #expect(r.status == 2 && r.err.contains("cannot write '/dev/full': No space left on device"), "\(c): \(r.status) \(r.err)")
        }
        // stdout on a full device, and closed.
        for redirect in ["> /dev/full", ">&-"] {
            let r = try Self.shell("exec \"$0\" \"$@\" \(redirect)", ["fmt", "examples/focal.loss"])
            #expect(r.status == 2 && r.err.contains("cannot write stdout"), "\(redirect): \(r.err)")
        }
        // A device is never replaced by a regular file, nor gets PATH.h/PATH.c beside it.
        var st = stat()
        #expect(stat("/dev/full", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR)
        #expect(!FileManager.default.fileExists(atPath: "/dev/full.c") && !FileManager.default.fileExists(atPath: "/dev/full.h"))
    }

    /// A write that fails midway (file size limit) leaves the old file byte for byte and no temporary file.
    @Test func aFailedWriteLeavesTheTargetUntouched() throws {
        let d = try Self.dir("limit")
        for (args, target) in [(["emit", "examples/focal.loss", "-o", "\(d)/k"], "\(d)/k.c"),
                               (["emit", "examples/focal.loss", "--target", "swift", "-o", "\(d)/k.swift"], "\(d)/k.swift")] {
            try "old\n".write(toFile: target, atomically: false, encoding: .utf8)
            let r = try Self.shell("ulimit -f 4; exec \"$0\" \"$@\"", args)
            #expect(r.status == 2 && r.err.contains("cannot write '") && r.err.contains("File too large"), "\(r.err)")
            #expect(Self.contents(target) == "old\n")
            #expect(Self.leftovers(d).isEmpty, "temporary files left: \(Self.leftovers(d))")
        }
    }

    /// A symlink is followed (the link stays, its target is replaced), the mode is kept, and a
    /// hard-linked file keeps its links.
    @Test func symlinksModesAndHardLinksSurvive() throws {
        let d = try Self.dir("links")
        let real = "\(d)/real.swift", link = "\(d)/link.swift", twin = "\(d)/twin.swift"
        try "old\n".write(toFile: real, atomically: false, encoding: .utf8)
        chmod(real, 0o600)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.swift")
        let r = try CLI.run(["emit", "examples/focal.loss", "--target", "swift", "-o", link])
        #expect(r.status == 0, "\(r.err)")
        var st = stat()
        #expect(lstat(link, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK, "the link stays a link")
        #expect(stat(real, &st) == 0 && st.st_mode & 0o777 == 0o600, "mode kept")
        #expect(Self.contents(real)?.contains("public enum") == true)
        // Hard link: both names see the new text.
        #expect(Glibc.link(real, twin) == 0)
        let h = try CLI.run(["emit", "examples/bce.loss", "--target", "swift", "-o", real])
        #expect(h.status == 0)
        #expect(Self.contents(twin) == Self.contents(real) && Self.contents(twin)?.contains("bce") == true)
        // A dangling symlink creates its target.
        try FileManager.default.createSymbolicLink(atPath: "\(d)/dangling.dot", withDestinationPath: "made.dot")
        #expect(try CLI.run(["graph", "examples/bce.loss", "-o", "\(d)/dangling.dot"]).status == 0)
        #expect(Self.contents("\(d)/made.dot")?.hasPrefix("digraph") == true)
        #expect(Self.leftovers(d).isEmpty)
    }

    /// `-o -` is stdout; /dev/null and a FIFO are written in place.
    @Test func stdoutDevicesAndFIFOs() throws {
        let e = try CLI.run(["emit", "examples/focal.loss", "-o", "-"])
        #expect(e.status == 0 && e.out.contains("focal_f32"))
        let s = try CLI.run(["emit", "examples/focal.loss", "--target", "swift", "-o", "-"])
        #expect(s.status == 0 && s.out.contains("public enum"))
        let g = try CLI.run(["graph", "examples/focal.loss", "-o", "-"])
        #expect(g.status == 0 && g.out.hasPrefix("digraph"))
        #expect(try CLI.run(["emit", "examples/focal.loss", "-o", "/dev/null"]).status == 0)
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR)
        let d = try Self.dir("fifo")
        let fifo = "\(d)/pipe"
        #expect(mkfifo(fifo, 0o644) == 0)
        let r = try Self.shell("cat \"$2\" > \"$2.read\" & \"$0\" emit \"$1\" -o \"$2\"; s=$?; wait; exit $s", ["examples/focal.loss", fifo])
        #expect(r.status == 0, "\(r.err)")
        #expect(stat(fifo, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "the FIFO stays a FIFO")
        #expect(Self.contents(fifo + ".read")?.contains("focal_f32") == true)
        #expect(!FileManager.default.fileExists(atPath: fifo + ".c"))
    }

    /// Two files from one command: both or neither.
    @Test func multiFileOutputsAreAllOrNothing() throws {
        let d = try Self.dir("pair")
        try FileManager.default.createDirectory(atPath: "\(d)/pair.c", withIntermediateDirectories: false)
        try "old header\n".write(toFile: "\(d)/pair.h", atomically: false, encoding: .utf8)
        let r = try CLI.run(["emit", "examples/focal.loss", "-o", "\(d)/pair"])
        #expect(r.status == 2 && r.err.contains("cannot write '\(d)/pair.c': Is a directory"), "\(r.err)")
        #expect(Self.contents("\(d)/pair.h") == "old header\n")
        if EmitBuildCLITests.cc != nil {
            let b = try CLI.run(["build", "examples/focal.loss", "-o", "\(d)/lib.so", "--header", "\(d)/pair.c"])
            #expect(b.status == 2 && b.err.contains("Is a directory"), "\(b.err)")
            #expect(!FileManager.default.fileExists(atPath: "\(d)/lib.so"), "no library without its header")
            let ok = try CLI.run(["build", "examples/focal.loss", "-o", "\(d)/lib.so", "--header", "\(d)/lib.h"])
            var st = stat()
            #expect(ok.status == 0 && stat("\(d)/lib.so", &st) == 0 && st.st_mode & 0o100 != 0, "a new library is executable like cc's")
        }
        #expect(Self.leftovers(d).isEmpty)
    }

    /// A file name near NAME_MAX still works (the temporary name does not grow with it).
    @Test func longFileNames() throws {
        let d = try Self.dir("long")
        let name = String(repeating: "n", count: 250) + ".svg"
        let r = try CLI.run(["plot", "examples/focal.loss", "-o", "\(d)/\(name)"])
        #expect(r.status == 0, "\(r.err)")
        #expect(Self.contents("\(d)/\(name)")?.hasPrefix("<svg") == true || Self.contents("\(d)/\(name)")?.hasPrefix("<?xml") == true)
    }

    /// `fmt --write` rewrites through the same writer (mode kept).
    @Test func fmtWriteKeepsTheMode() throws {
        let d = try Self.dir("fmt")
        let f = "\(d)/a.loss"
        try "loss a: binary\nreturn   -y*log(sigmoid(x))\n".write(toFile: f, atomically: false, encoding: .utf8)
        chmod(f, 0o640)
        #expect(try CLI.run(["fmt", "--write", f]).status == 0)
        var st = stat()
        #expect(stat(f, &st) == 0 && st.st_mode & 0o777 == 0o640)
        #expect(try CLI.run(["fmt", "--check", f]).status == 0)
    }
}
