import Foundation
import Testing

/// `lossc check` with the convergence stages, and `lossc bench check`, as a user runs them.
struct CheckCommandTests {
    @Test func publishedLossPassesBothStages() throws {
        let r = try CLI.run(["check", "examples/focal.loss"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("stage 1: convergence properties"))
        #expect(r.out.contains("PROVED     binary.positive-decreasing  [x ∈ [-15, 15], y = 1, w = 1]"))
        #expect(r.out.contains("stage 2: model optimization simulation") && r.out.contains("vs BCE"))
        #expect(r.out.hasSuffix("result: pass\n"))
    }

    @Test func refutedPropertyPrintsTheCounterexampleAndExitsOne() throws {
        let path = try CLI.temp("sin.loss", "loss wave: binary\nreturn sin(x)\n")
        let r = try CLI.run(["check", path])
        #expect(r.status == 1)
        let line = r.out.split(separator: "\n").first { $0.contains("binary.positive-decreasing") }.map(String.init) ?? ""
        #expect(line.hasPrefix("  REFUTED") && line.contains("counterexample: x = ") && line.contains("L rises"), "\(line)")
        // Stage 2 is not run once stage 1 refutes.
        #expect(r.out.contains("SKIPPED") && r.out.contains("stage 1 refuted a property"))
        #expect(r.out.hasSuffix("result: FAIL\n"))
    }

    @Test func stagesCanBeChosen() throws {
        let one = try CLI.run(["check", "examples/giou.loss", "--stage", "1"])
        #expect(one.status == 0 && one.out.contains("stage 1") && !one.out.contains("stage 2"))
        #expect(one.out.contains("UNDECIDED  box.gradient-step"))
        let two = try CLI.run(["check", "examples/cross_entropy.loss", "--stage", "2", "--seed", "3"])
        #expect(two.status == 0 && !two.out.contains("stage 1") && two.out.contains("stage 2") && two.out.contains("seed 3"))
        // Stage 2 alone runs even for a loss stage 1 would refute, and fails it.
        let neg = try CLI.temp("neg.loss", "loss neg: multiclass\nreturn dot(y, log(softmax(x)))\n")
        let r = try CLI.run(["check", neg, "--stage", "2"])
        #expect(r.status == 1 && r.out.contains("FAILED"))
        let bad = try CLI.run(["check", "examples/focal.loss", "--stage", "3"])
        #expect(bad.status == 2 && bad.err.contains("invalid value '3' for --stage"))
        let budget = try CLI.run(["check", "examples/bce.loss", "--stage", "1", "--proof-budget", "0"])
        #expect(budget.status == 0 && budget.out.contains("UNDECIDED") && !budget.out.contains("PROVED"))
    }

    @Test func jsonHasPropertiesAndSimulation() throws {
        let r = try CLI.run(["check", "examples/cse_b_cls.loss", "--json"])
        #expect(r.status == 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let props = try #require(obj["properties"] as? [[String: Any]])
        #expect(props.count == 4 && props.allSatisfy { $0["verdict"] as? String == "proved" && $0["evidence"] is String })
        let sim = try #require(obj["simulation"] as? [String: Any])
        #expect(sim["metric"] as? String == "AP" && sim["passed"] as? Bool == true && sim["reference"] as? String == "BCE")

        let path = try CLI.temp("nan.loss", "loss a: binary\nreturn -y * log(x)\n")
        let bad = try CLI.run(["check", path, "--json", "--stage", "1"])
        #expect(bad.status == 1)
        let b = try #require(try JSONSerialization.jsonObject(with: Data(bad.out.utf8)) as? [String: Any])
        let finite = try #require((b["properties"] as? [[String: Any]])?.first { $0["id"] as? String == "binary.finite" })
        let c = try #require(finite["counterexample"] as? [String: Any])
        let x = try #require((c["inputs"] as? [String: Any])?["x"] as? Double)
        #expect(x < 0 && (c["observation"] as? String)?.contains("nan") == true)
    }

    @Test func benchCheckRuns() throws {
        let r = try CLI.run(["bench", "check", "--candidates", "40", "--kind", "binary"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("stage 1:") && r.out.contains("candidates/s") && r.out.contains("rejects"))
        #expect(r.out.contains("stage 2:"))
        #expect(try CLI.run(["bench", "check", "--kind", "ranking"]).status == 2)
    }
}
