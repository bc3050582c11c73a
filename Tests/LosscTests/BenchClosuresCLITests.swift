import Foundation
import Testing

/// `lossc bench closures` refuses bad arguments with exit status 2 before doing any work.
/// (Its timings are measured by running it, never asserted in tests.)
struct BenchClosuresCLITests {
    @Test func unknownLossIsABadArgument() throws {
        let r = try CLI.run(["bench", "closures", "--loss", "focal,nope"])
        #expect(r.status == 2)
        #expect(r.err.contains("unknown benchmark loss 'nope'") && r.err.contains("available: focal, bce, cross_entropy, giou"))
    }

    @Test func elementsMustBePositive() throws {
        let r = try CLI.run(["bench", "closures", "--elements", "0"])
        #expect(r.status == 2)
        #expect(r.err.contains("--elements: '0' is not a positive integer"))
    }

    /// Every bench takes `--repeat` (bench c once took `--reps`), and bench --help lists each
    /// option once.
    @Test func benchesShareTheirOptionNames() throws {
        let old = try CLI.run(["bench", "c", "--reps", "3"])
        #expect(old.status == 2 && old.err.contains("unknown option '--reps'"), "\(old.err)")
        let zero = try CLI.run(["bench", "c", "--repeat", "0"])
        #expect(zero.status == 2 && zero.err.contains("--repeat must be a positive integer"), "\(zero.err)")
        let help = try CLI.run(["bench", "--help"]).out
        for option in ["--elements", "--repeat"] {
            #expect(help.components(separatedBy: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix(option + " ") }.count == 1,
                    "bench --help lists \(option) once:\n\(help)")
        }
    }

    @Test func helpListsTheClosuresBenchmark() throws {
        let r = try CLI.run(["bench", "--help"])
        #expect(r.status == 0 && r.out.contains("bench closures") && r.out.contains("--elements"))
    }
}
