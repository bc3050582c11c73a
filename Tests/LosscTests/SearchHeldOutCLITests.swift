import Foundation
import Testing

/// `lossc search` re-evaluates its best candidates on held-out seeds after the run, so the
/// number it reports is not the maximum it selected: an external evaluator sees `{seed}` =
/// `$LOSSC_SEED` = 0 while the search selects and 1, 2, … afterwards.
struct SearchHeldOutCLITests {
    static func report(_ json: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    @Test func anExternalEvaluatorSeesFreshSeedsAfterTheRun() throws {
        // fitness 0.5 followed by the seed's digit: 0.50 while selecting, 0.51, 0.52, 0.53 held out;
        // the command fails unless {seed} and $LOSSC_SEED agree.
        let cmd = "test {seed} = \"$LOSSC_SEED\" && echo 0.5$LOSSC_SEED"
        let r = try CLI.run(SearchHardeningCLITests.small(["--evaluator", cmd, "--holdout-seeds", "3"], holdout: 2))
        #expect(r.status == 0, "\(r.err)")
        let held = try #require(Self.report(r.out)?["heldout"] as? [String: Any], "\(r.out)")
        #expect(held["seeds"] as? Int == 3)
        let candidates = try #require(held["candidates"] as? [[String: Any]])
        #expect(candidates.count == 2)
        for c in candidates {
            #expect(c["selected"] as? Double == 0.5)
            #expect((c["values"] as? [Double]) == [0.51, 0.52, 0.53], "\(c)")
            #expect(abs((c["mean"] as? Double ?? 0) - 0.52) < 1e-12)
        }
        // The text report says which is which.
        let text = try CLI.run(SearchHardeningCLITests.small(["--evaluator", cmd], holdout: 1).filter { $0 != "json" && $0 != "--format" })
        #expect(text.status == 0 && text.out.contains("held-out re-evaluation (2 seed(s) the search never selected on):"), "\(text.out)")
        #expect(text.out.contains("#1 selected 0.5000  held out 0.5150  (0.5100, 0.5200)"), "\(text.out)")
        #expect(text.out.contains("best held out: #1, 0.5150"))
    }

    @Test func aFailedHeldOutEvaluationIsNamedNotAveraged() throws {
        // seed 2 fails: the mean is over the others, the failure printed as such
        let cmd = "test \"$LOSSC_SEED\" != 2 && echo 0.4$LOSSC_SEED"
        let r = try CLI.run(SearchHardeningCLITests.small(["--evaluator", cmd, "--holdout-seeds", "3"], holdout: 1))
        let c = try #require(((Self.report(r.out)?["heldout"] as? [String: Any])?["candidates"] as? [[String: Any]])?.first, "\(r.out)")
        #expect((c["values"] as? [Any])?.count == 3 && (c["values"] as? [Any])?[1] is NSNull, "\(c)")
        #expect(abs((c["mean"] as? Double ?? 0) - 0.42) < 1e-12)
    }

    @Test func holdoutZeroSkipsIt() throws {
        let dir = try SearchHardeningCLITests.dir("holdout-zero")
        let r = try CLI.run(SearchHardeningCLITests.small(["--evaluator", "echo 0.5", "--checkpoint", dir]))
        #expect(r.status == 0)
        #expect(((Self.report(r.out)?["heldout"] as? [String: Any])?["candidates"] as? [Any])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/evaluations/heldout-seed-1"))
    }

    /// `--alpha-t A`: CSE-Autoloss's binary conventions on the built-in proxy; kept in the
    /// checkpoint like the other options that change the fitness.
    @Test func alphaTIsValidatedAndKeptByTheCheckpoint() throws {
        let box = try CLI.run(["search", "--kind", "box", "--alpha-t", "0.25", "--generations", "1", "--population", "5"])
        #expect(box.status == 2 && box.err.contains("--alpha-t applies to binary losses only"), "\(box.err)")
        let bad = try CLI.run(["search", "--kind", "binary", "--alpha-t", "2", "--generations", "1"])
        #expect(bad.status == 2 && bad.err.contains("not a number in [0, 1]"), "\(bad.err)")
        let dir = try SearchHardeningCLITests.dir("alpha-t")
        let args = ["search", "--kind", "binary", "--population", "20", "--generations", "1", "--from", "examples/bce.loss",
                    "--quiet", "--format", "json", "--holdout", "0"]
        let cse = try CLI.run(args + ["--alpha-t", "0.25", "--checkpoint", dir])
        let plain = try CLI.run(args)
        #expect(cse.status == 0 && plain.status == 0, "\(cse.err)\(plain.err)")
        // BCE, the reference, trained under the conventions scores differently
        let refs = [cse, plain].map { ((Self.report($0.out)?["references"] as? [String: Any])?["BCE"] as? Double) ?? .nan }
        #expect(refs[0].isFinite && refs[1].isFinite && refs[0] != refs[1], "\(refs)")
        let conflict = try CLI.run(["search", "--resume", "--checkpoint", dir, "--alpha-t", "0.5", "--quiet"])
        #expect(conflict.status == 2 && conflict.err.contains("--alpha-t 0.5 conflicts with the checkpoint (--alpha-t 0.25)"), "\(conflict.err)")
    }

    /// SIGINT during the held-out re-evaluation (the evaluator of seed 1 sends it to lossc):
    /// lossc stops the evaluations, says where the run is, exits 130; `--resume` then prints the
    /// report with the held-out values.
    @Test func anInterruptedHeldOutPassExitsAndResumes() throws {
        let dir = try SearchHardeningCLITests.dir("holdout-interrupt")
        let cmd = "if [ \"$LOSSC_SEED\" = 1 ] && [ ! -e \"$LOSSC_DIR/../../once\" ]; then touch \"$LOSSC_DIR/../../once\"; kill -INT $PPID; sleep 1; fi; echo 0.5$LOSSC_SEED"
        let r = try CLI.run(SearchHardeningCLITests.small(["--evaluator", cmd, "--checkpoint", dir, "--workers", "1"], holdout: 1))
        #expect(r.status == 130, "\(r.status) \(r.err)")
        #expect(r.err.contains("during the held-out re-evaluation") && r.err.contains("--resume"), "\(r.err)")
        let again = try CLI.run(["search", "--resume", "--checkpoint", dir, "--quiet", "--format", "json", "--holdout", "1",
                                 "--evaluator", cmd])
        #expect(again.status == 0, "\(again.err)")
        let c = try #require(((Self.report(again.out)?["heldout"] as? [String: Any])?["candidates"] as? [[String: Any]])?.first, "\(again.out)")
        #expect((c["values"] as? [Double]) == [0.51, 0.52], "\(c)")
    }
}
