import Foundation
import Testing

/// Class 3 of the hardening issue: large-but-legal or hostile inputs are refused or handled
/// in bounded memory, never by allocating their whole size first.
struct BoundsCLITests {
    /// A 2.5 GB (sparse) loss file is refused from its size, before anything is read.
    @Test func anOversizedSourceIsRefusedBeforeReading() throws {
        let d = try OutputFileCLITests.dir("big")
        let path = "\(d)/huge.loss"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 2_500_000_000) == 0)
        for cmd in ["check", "fmt", "eval", "emit"] {
            let r = try CLI.run([cmd, path] + (cmd == "eval" ? ["--data", "-"] : []), stdin: "x,y\n")
            #expect(r.status == 2 && r.err.contains("loss files are limited to 4 MiB"), "\(cmd): \(r.err)")
        }
        // A FIFO that never ends is cut at the limit too.
        let fifo = "\(d)/endless.loss"
        #expect(mkfifo(fifo, 0o644) == 0)
        let r = try OutputFileCLITests.shell("yes 'return x' > \"$1\" & \"$0\" check \"$1\"; s=$?; kill %1 2>/dev/null; exit $s", [fifo])
        #expect(r.status == 2 && r.err.contains("limited to 4 MiB"), "\(r.err)")
    }

    /// A CSV line longer than 1 MiB, or with more than 65,536 fields, is an error found while
    /// scanning (not after splitting it).
    @Test func csvLinesAreBoundedWhileScanning() throws {
        let long = try CLI.temp("long.csv", "x,y\n" + String(repeating: "1", count: 3 << 20) + ",1\n")
        let l = try CLI.run(["eval", "examples/bce.loss", "--data", long])
        #expect(l.status == 2 && l.err.contains("long.csv:2:1: error: line longer than 1 MiB"), "\(l.err)")
        let wide = try CLI.temp("wide.csv", "x,y\n" + String(repeating: "1,", count: 70_000) + "1\n")
        let w = try CLI.run(["eval", "examples/bce.loss", "--data", wide])
        #expect(w.status == 2 && w.err.contains("more than 65536 fields"), "\(w.err)")
    }

    /// 40 MB of evaluator output: only the tail is read, and the last number is the fitness.
    @Test func evaluatorOutputIsReadFromItsTail() throws {
        let cmd = "head -c 40000000 /dev/zero | tr '\\0' 'x'; echo; echo 'AP: 0.375'"
        let r = try CLI.run(SearchHardeningCLITests.small(["--evaluator", cmd]))
        #expect(r.status == 0 && SearchHardeningCLITests.best(r.out) == [0.375, 0.375], "\(r.err)")
    }

    /// A curve with 600 knots (more breakpoints than the sorted-sum analysis keeps) is evaluated
    /// pair by pair: the same loss as the brute-force reference, no crash.
    @Test func aCurveWithManyKnotsMatchesTheReference() throws {
        let n = 600
        let pts = (1...n).map { i -> String in let x = Double(i) / Double(n + 1); return "(\(x), \(x * x))" }.joined(separator: ", ")
        let loss = try CLI.temp("knots.loss", """
            loss knots: ranking
            curve H = (0, 0), \(pts), (1, 1)
            let x = clamp(d / 2 + 0.5, 0, 1)
            return sum_positive(pairsum(H(x), valid)) / (num_positive + 1e-08)

            """)
        let data = try CLI.temp("knots.csv", "s,y\n0.5,1\n0.2,0\n0.9,1\n-1,0\n0.3,-1\n0.35,0\n")
        let fast = try CLI.run(["eval", loss, "--data", data])
        let oracle = try CLI.run(["eval", loss, "--data", data, "--oracle"])
        #expect(fast.status == 0 && oracle.status == 0, "\(fast.err)\(oracle.err)")
        // Same numbers up to summation order (the reference sums pair by pair in another order).
        func numbers(_ s: String) -> [Double] { s.split(whereSeparator: { $0 == "\n" || $0 == "," }).compactMap { Double($0) } }
        let a = numbers(fast.out), b = numbers(oracle.out)
        #expect(a.count == 7 && a.count == b.count && fast.out.contains("# loss,"))
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-12 * max(1, abs(y)), "\(x) vs \(y)") }
    }
}
