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

    @Test func helpListsTheClosuresBenchmark() throws {
        let r = try CLI.run(["bench", "--help"])
        #expect(r.status == 0 && r.out.contains("bench closures") && r.out.contains("--elements"))
    }
}
